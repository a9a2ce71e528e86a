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
internal sealed class MessageGrain(IOptions<RelayOptions> options, TimeProvider time, ILocalSiloDetails silo) : Grain, IMessageGrain
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
        var acceptedAt = RelayClock.Now(time);
        // The first attempt on this silo too: a new delivery grain is activated here (Orleans's placement hint, which
        // its hash-based placement honours), so the payload does not cross the cluster before its first attempt. A
        // delivery woken later by a scheduler is activated by its hash: a backlog is still worked by every silo.
        var hint = RequestContext.Get(IPlacementDirector.PlacementHintKey);
        RequestContext.Set(IPlacementDirector.PlacementHintKey, silo.SiloAddress);
        Task<DeliveryView[]> accepting;
        try
        {
            accepting = Task.WhenAll(command.Destinations.Select(destination => Accept(id, destination, command, acceptedAt)));
        }
        finally
        {
            if (hint is null)
            {
                RequestContext.Remove(IPlacementDirector.PlacementHintKey);
            }
            else
            {
                RequestContext.Set(IPlacementDirector.PlacementHintKey, hint);
            }
        }

        var deliveries = await accepting;
        var repeated = deliveries.Any(d => d.Repeated);
        return new MessageView
        {
            Id = id,
            AcceptedAt = repeated ? deliveries.Min(d => d.AcceptedAt) : acceptedAt,
            Deliveries = deliveries,
            Repeated = repeated,
        };
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
                || await GrainFactory.GetGrain<IDeliveryGrain>(new DeliveryKey(destination, id).ToString()).GetContent() is not null;
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

    private Task<DeliveryView> Accept(string id, string destination, SendCommand command, DateTimeOffset acceptedAt)
    {
        var envelope = new DeliveryEnvelope
        {
            MessageId = id,
            Destination = destination,
            Topic = command.Topic,
            Payload = command.Payload,
            ContentType = command.ContentType,
            Headers = command.Headers,
            Contract = command.Contract,
            Notify = command.NotifyNone ? null : command.Notify ?? _options.Destinations[destination].Notify,
            OrderingKey = command.OrderingKey,
            CorrelationId = command.CorrelationId,
            ContentHash = command.ContentHash,
            AcceptedAt = acceptedAt,
            Sender = command.Sender,
            TraceParent = command.TraceParent,
        };
        return GrainFactory.GetGrain<IDeliveryGrain>(new DeliveryKey(destination, id).ToString()).Accept(envelope, attemptNow: true);
    }
}
