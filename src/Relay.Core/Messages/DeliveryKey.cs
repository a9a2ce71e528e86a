using System.Text;

namespace Relay.Core.Messages;

/// <summary>
/// Identifies one delivery: one message on its way to one destination. Its string form
/// <c>destination/messageId</c> is the delivery grain's key; destination names cannot contain '/'.
/// </summary>
public readonly record struct DeliveryKey(string Destination, string MessageId)
{
    /// <summary>Number of fixed shards the deliveries are hashed into; schedulers own ranges of them.</summary>
    public const int ShardSpace = 1024;

    public override string ToString() => $"{Destination}/{MessageId}";

    public static DeliveryKey Parse(string key)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == key.Length - 1)
        {
            throw new FormatException($"'{key}' is not a delivery key (destination/messageId).");
        }

        return new DeliveryKey(key[..slash], key[(slash + 1)..]);
    }

    /// <summary>A stable shard (FNV-1a of the key's UTF-8), the same on every silo and every run.</summary>
    public int Shard
    {
        get
        {
            const uint offset = 2166136261, prime = 16777619;
            var hash = offset;
            Span<byte> buffer = stackalloc byte[4];
            foreach (var rune in ToString().EnumerateRunes())
            {
                var written = rune.EncodeToUtf8(buffer);
                for (var i = 0; i < written; i++)
                {
                    hash = (hash ^ buffer[i]) * prime;
                }
            }

            return (int)(hash % ShardSpace);
        }
    }
}
