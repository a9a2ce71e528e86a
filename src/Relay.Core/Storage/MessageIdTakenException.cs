namespace Relay.Core.Storage;

/// <summary>
/// Thrown by a storage backend for the first write of a delivery whose message id other content (another content
/// hash, or another sender) already holds: the id check of a new message, made in the transaction of its first write.
/// </summary>
public sealed class MessageIdTakenException : Exception
{
    public MessageIdTakenException()
    {
    }

    public MessageIdTakenException(string message)
        : base(message)
    {
    }

    public MessageIdTakenException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public static MessageIdTakenException For(string messageId) =>
        new($"A different message was already accepted with id '{messageId}'.");
}
