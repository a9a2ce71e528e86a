using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Storage;
using Relay.Contracts;
using Relay.Core.Messages;
using Relay.Core.Options;
using Relay.Core.Storage;

namespace Relay.Grains.Ordering;

/// <summary>
/// One ordering queue (<see cref="OrderingQueueKey"/>): the one writer of its rows in <see cref="IOrderingQueueStore"/>.
/// It keeps the queue's depth in memory (counted once at activation) to refuse a send beyond
/// <c>Relay:Ordering:MaxDepth</c> without a read.
/// </summary>
internal sealed partial class OrderingKeyGrain(
    IOrderingQueueStore queues,
    IRelayStore store,
    [FromKeyedServices(RelayStorage.ControlName)] IGrainStorage legacyStorage,
    IOptions<RelayOptions> options,
    ILogger<OrderingKeyGrain> logger) : Grain, IOrderingKeyGrain
{
    /// <summary>The state name the queues were stored under before they were rows (<see cref="OrderingKeyState"/>).</summary>
    internal const string LegacyStateName = "ordering";

    private string _queue = "";
    private int _depth;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var key = OrderingQueueKey.Parse(this.GetPrimaryKeyString());
        _queue = key.ToString();
        await MoveLegacyQueueAsync(key, cancellationToken);
        _depth = await queues.CountAsync(_queue, cancellationToken);
    }

    public Task<bool> HasRoom() => Task.FromResult(_depth < options.Value.Ordering.MaxDepth);

    public async Task<bool> Enqueue(string messageId)
    {
        var change = await queues.EnqueueAsync(_queue, messageId);
        if (change.Changed)
        {
            _depth++;
        }

        return string.Equals(change.Head, messageId, StringComparison.Ordinal);
    }

    public async Task<string?> Complete(string messageId)
    {
        var change = await queues.RemoveAsync(_queue, messageId);
        if (change.Changed)
        {
            _depth--;
        }

        return change.Head;
    }

    /// <summary>
    /// A queue stored by a version before queues were rows and scoped by sender: one grain state
    /// (<see cref="OrderingKeyState"/>) of the grain keyed <see cref="OrderingQueueKey.LegacyKey"/>, shared by every
    /// sender. The first of its keys used after the upgrade moves it whole, in its order, into the rows of each message's
    /// own sender (read from the message's delivery row), then clears it. Messages already finished are left out, so
    /// moving again (after a crash before the clear) adds nothing a completion took out.
    /// </summary>
    private async Task MoveLegacyQueueAsync(OrderingQueueKey key, CancellationToken cancellationToken)
    {
        var legacyId = GrainId.Create(this.GetGrainId().Type, key.LegacyKey);
        var legacy = new GrainState<OrderingKeyState>(new OrderingKeyState());
        await legacyStorage.ReadStateAsync(LegacyStateName, legacyId, legacy);
        if (!legacy.RecordExists)
        {
            return;
        }

        var waiting = legacy.State?.Queue ?? [];
        var moved = 0;
        foreach (var messageId in waiting)
        {
            var message = await store.GetMessageAsync(messageId, includeAudit: false, cancellationToken);
            var delivery = message?.Deliveries.FirstOrDefault(d => string.Equals(d.Destination, key.Destination, StringComparison.Ordinal));
            if (delivery is null || delivery.Status is DeliveryStatus.Delivered or DeliveryStatus.Discarded)
            {
                continue;
            }

            var queue = new OrderingQueueKey(key.Destination, delivery.Sender, key.OrderingKey).ToString();
            if ((await queues.EnqueueAsync(queue, messageId, cancellationToken)).Changed)
            {
                moved++;
            }
        }

        try
        {
            await legacyStorage.ClearStateAsync(LegacyStateName, legacyId, legacy);
        }
        catch (InconsistentStateException)
        {
            // Another sender's key of the same legacy queue moved it at the same time, and cleared it first.
        }

        Log.LegacyQueueMoved(logger, key.LegacyKey, waiting.Count, moved);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1131, Level = LogLevel.Information,
            Message = "Ordering queue {LegacyKey} stored by an earlier version ({Count} messages) moved into the queues of its senders ({Moved} moved)")]
        public static partial void LegacyQueueMoved(ILogger logger, string legacyKey, int count, int moved);
    }
}

/// <summary>
/// An ordering queue as versions before queues were rows stored it: read once, to move it (<see cref="OrderingKeyGrain"/>),
/// never written. Its name and shape stay as they were, so that Orleans's binary form still reads.
/// </summary>
[GenerateSerializer]
public sealed class OrderingKeyState
{
    /// <summary>Message ids in acceptance order; the first is the head.</summary>
    [Id(0)] public List<string> Queue { get; set; } = [];
}
