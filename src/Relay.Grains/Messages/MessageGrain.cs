using Microsoft.Extensions.Options;
using Orleans.Placement;
using Orleans.Runtime.Placement;
using Relay.Core;
using Relay.Core.Messages;
using Relay.Core.Options;
using Relay.Core.Storage;
using Relay.Grains.Delivery;

namespace Relay.Grains.Messages;

// On the silo that took the request: it only fans out, so a hop elsewhere would buy nothing.
[PreferLocalPlacement]
internal sealed class MessageGrain(IOptions<RelayOptions> options, TimeProvider time, FirstAttemptPlacement placement) : Grain, IMessageGrain
{
    // Read at each use: the catalog changes destinations at runtime (IOptions<RelayOptions> answers its current view).
    private RelayOptions _options => options.Value;

    public async Task<MessageView> Send(SendCommand command)
    {
        var id = this.GetPrimaryKeyString();
        if (command.OrderingKey is { } orderingKey)
        {
            await EnsureRoomAsync(id, command, orderingKey);
        }

        // No read first: each delivery's first write checks the id in its own transaction (another content or sender
        // under this id is refused there), and a delivery stored before answers its stored state.
        return await MessageFanOut.AcceptAsync(GrainFactory, _options, placement.Hint, command, RelayClock.Now(time));
    }

    /// <summary>
    /// Refuses, before anything is stored, a message whose ordering queue (at any of its destinations) is full
    /// (<c>Relay:Ordering:MaxDepth</c>), unless it is stored already: sent again, it answers its state (or 409).
    /// </summary>
    /// <remarks>
    /// Checked, then stored: sends to one key at the same instant may each pass the check, so a queue can exceed the
    /// bound by as many as were in flight together; it grows no further.
    /// </remarks>
    private async Task EnsureRoomAsync(string id, SendCommand command, string orderingKey)
    {
        var checks = command.Destinations.Select(async destination =>
        {
            var queue = new OrderingQueueKey(destination, command.Sender, orderingKey);
            var room = await GrainFactory.GetGrain<Ordering.IOrderingKeyGrain>(queue.ToString()).HasRoom()
                || await GrainReferences<IDeliveryGrain>.Get(GrainFactory, new DeliveryKey(destination, id).ToString()).GetContent() is not null;
            return (destination, room);
        });
        foreach (var (destination, room) in await Task.WhenAll(checks))
        {
            if (!room)
            {
                throw new RelayGrainException(new RelayError(429,
                    $"The ordering key '{orderingKey}' of this sender to '{destination}' has {_options.Ordering.MaxDepth} messages waiting: the most it holds.",
                    "Nothing was stored. Its first message is held back (in retry, dead-lettered, or its destination paused): once it is "
                    + "delivered, or an operator resubmits or discards it, the queue drains; send this message again then."));
            }
        }
    }
}
