namespace Relay.Grains.Ordering;

/// <summary>
/// One ordering queue: the messages of one sender with one ordering key to one destination (keyed by
/// <see cref="Core.Messages.OrderingQueueKey"/>), in the order they were accepted. Only the head is attempted; it leaves
/// the queue when delivered or discarded, and the next one is released. A head that is in retry or dead-lettered holds
/// the rest back.
/// </summary>
public interface IOrderingKeyGrain : IGrainWithStringKey
{
    /// <summary>Whether the queue holds fewer messages than <c>Relay:Ordering:MaxDepth</c>: a new message may join it.</summary>
    Task<bool> HasRoom();

    /// <summary>Queues a message (once; again is harmless; never refused: it is stored already); answers whether it is the head.</summary>
    Task<bool> Enqueue(string messageId);

    /// <summary>
    /// Takes a delivered or discarded message out of the queue; answers the head now (also when asked twice), for the
    /// caller to release. (The key does not call the head itself: the head may be calling the key at that moment.)
    /// </summary>
    Task<string?> Complete(string messageId);
}
