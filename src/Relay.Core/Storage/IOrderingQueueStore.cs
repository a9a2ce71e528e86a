namespace Relay.Core.Storage;

/// <summary>
/// The ordering queues (<see cref="Messages.OrderingQueueKey"/>), one row per waiting message: an enqueue writes one
/// row and a completion deletes one, whatever the queue's depth. Each queue has one writer, its ordering key grain.
/// </summary>
public interface IOrderingQueueStore
{
    /// <summary>How many messages the queue holds (its head included).</summary>
    Task<int> CountAsync(string queue, CancellationToken cancellationToken = default);

    /// <summary>
    /// Puts <paramref name="messageId"/> at the tail, unless the queue holds it already (then nothing changes); answers
    /// whether it was added, and the head.
    /// </summary>
    Task<OrderingQueueChange> EnqueueAsync(string queue, string messageId, CancellationToken cancellationToken = default);

    /// <summary>Takes <paramref name="messageId"/> out of the queue, if there; answers whether it was, and the head after.</summary>
    Task<OrderingQueueChange> RemoveAsync(string queue, string messageId, CancellationToken cancellationToken = default);
}

/// <summary>What an enqueue or a removal did: whether the queue changed, and its head now (null when empty).</summary>
public readonly record struct OrderingQueueChange(bool Changed, string? Head);
