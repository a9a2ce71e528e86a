namespace Relay.Core.Messages;

/// <summary>
/// Identifies one ordering queue: the messages of one sender with one ordering key to one destination. Its string
/// form <c>destination/sender/orderingKey</c> is the ordering key grain's key and the queue's key in storage; the sender
/// is the API key's name, escaped (<see cref="Uri.EscapeDataString"/>, so it holds no '/'), or <c>*</c> for the
/// anonymous sender (no keys configured), which an escaped name never is. Destination names cannot contain '/'.
/// </summary>
/// <remarks>
/// Scoped by sender, so that one sender's dead-lettered head never holds back another sender's messages that happen to
/// use the same ordering key. Before, a queue was keyed <c>destination/orderingKey</c> (<see cref="LegacyKey"/>).
/// </remarks>
public readonly record struct OrderingQueueKey(string Destination, string? Sender, string OrderingKey)
{
    /// <summary>How the anonymous sender is written in a key.</summary>
    public const string AnonymousSender = "*";

    public override string ToString() =>
        $"{Destination}/{(Sender is null ? AnonymousSender : Uri.EscapeDataString(Sender))}/{OrderingKey}";

    /// <summary>The key the same queue had before queues were scoped by sender: one queue for every sender.</summary>
    public string LegacyKey => $"{Destination}/{OrderingKey}";

    public static OrderingQueueKey Parse(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var first = key.IndexOf('/', StringComparison.Ordinal);
        var second = first < 0 ? -1 : key.IndexOf('/', first + 1);
        if (first <= 0 || second < 0 || second == first + 1 || second == key.Length - 1)
        {
            throw new FormatException($"'{key}' is not an ordering queue key (destination/sender/orderingKey).");
        }

        var sender = key[(first + 1)..second];
        return new OrderingQueueKey(key[..first], sender == AnonymousSender ? null : Uri.UnescapeDataString(sender), key[(second + 1)..]);
    }
}
