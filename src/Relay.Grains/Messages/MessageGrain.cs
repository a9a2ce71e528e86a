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
    private readonly RelayOptions _options = options.Value;

    public async Task<MessageView> Send(SendCommand command)
    {
        var id = this.GetPrimaryKeyString();
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
