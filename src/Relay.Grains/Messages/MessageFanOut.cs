using Orleans.Runtime.Placement;
using Relay.Core.Messages;
using Relay.Core.Options;
using Relay.Core.Storage;
using Relay.Grains.Delivery;

namespace Relay.Grains.Messages;

/// <summary>
/// A send's fan-out: one delivery grain per destination, each told to accept its envelope and make its first attempt,
/// activated on the silo that took the request. Called by <see cref="MessageGrain"/> for a message to several
/// destinations or with an ordering key, and by the front door itself for a message to one destination, which needs no
/// grain of its own (issue 14: one activation per message instead of two).
/// </summary>
public static class MessageFanOut
{
    /// <summary>
    /// Whether a send needs a <see cref="IMessageGrain"/>: to check the room of its ordering queues before anything is
    /// stored, or to serialize concurrent sends of one id to several destinations. A send to one destination without an
    /// ordering key is serialized by its one delivery grain (one activation per id and destination in the cluster), whose
    /// first write checks the id in its own transaction.
    /// </summary>
    public static bool NeedsMessageGrain(SendCommand command) => command.Destinations.Length != 1 || command.OrderingKey is not null;

    /// <summary>
    /// Accepts the message at each destination; its deliveries are activated on <paramref name="here"/>, or where their
    /// hash places them when null (<see cref="FirstAttemptPlacement.Hint"/>: a silo alone in its cluster).
    /// </summary>
    public static async Task<MessageView> AcceptAsync(IGrainFactory grains, RelayOptions options, SiloAddress? here, SendCommand command, DateTimeOffset acceptedAt)
    {
        var (single, several) = here is null
            ? StartAll(grains, options, command, acceptedAt)
            : StartAllHere(grains, options, here, command, acceptedAt);
        var deliveries = several is null ? [await single!] : await several;
        var repeated = false;
        foreach (var delivery in deliveries)
        {
            repeated |= delivery.Repeated;
        }

        return new MessageView
        {
            Id = command.Id,
            AcceptedAt = repeated ? Earliest(deliveries) : acceptedAt,
            Deliveries = deliveries,
            Repeated = repeated,
        };
    }

    /// <summary>
    /// The first attempt on this silo too: a new delivery grain is activated here (Orleans's placement hint, which its
    /// hash-based placement honours), so the payload does not cross the cluster before its first attempt. A delivery
    /// woken later by a scheduler is activated by its hash: a backlog is still worked by every silo. The hint is set
    /// only while the calls start (Orleans copies the request context into each call), then put back as it was.
    /// </summary>
    private static (Task<DeliveryView>? Single, Task<DeliveryView[]>? Several) StartAllHere(IGrainFactory grains, RelayOptions options, SiloAddress here, SendCommand command, DateTimeOffset acceptedAt)
    {
        var hint = RequestContext.Get(IPlacementDirector.PlacementHintKey);
        RequestContext.Set(IPlacementDirector.PlacementHintKey, here);
        try
        {
            return StartAll(grains, options, command, acceptedAt);
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
    }

    /// <summary>Starts the call to each delivery: one task for a single destination (no array of tasks), else one for all.</summary>
    private static (Task<DeliveryView>? Single, Task<DeliveryView[]>? Several) StartAll(IGrainFactory grains, RelayOptions options, SendCommand command, DateTimeOffset acceptedAt) =>
        command.Destinations.Length == 1
            ? (Accept(grains, options, command, command.Destinations[0], acceptedAt), null)
            : (null, Task.WhenAll(command.Destinations.Select(destination => Accept(grains, options, command, destination, acceptedAt))));

    private static DateTimeOffset Earliest(DeliveryView[] deliveries)
    {
        var earliest = deliveries[0].AcceptedAt;
        foreach (var delivery in deliveries)
        {
            earliest = delivery.AcceptedAt < earliest ? delivery.AcceptedAt : earliest;
        }

        return earliest;
    }

    private static Task<DeliveryView> Accept(IGrainFactory grains, RelayOptions options, SendCommand command, string destination, DateTimeOffset acceptedAt)
    {
        var envelope = new DeliveryEnvelope
        {
            MessageId = command.Id,
            Destination = destination,
            Topic = command.Topic,
            Payload = command.Payload,
            ContentType = command.ContentType,
            Headers = command.Headers,
            Contract = command.Contract,
            Notify = command.NotifyNone ? null : command.Notify ?? options.Destinations[destination].Notify,
            OrderingKey = command.OrderingKey,
            CorrelationId = command.CorrelationId,
            ContentHash = command.ContentHash,
            AcceptedAt = acceptedAt,
            Sender = command.Sender,
            TraceParent = command.TraceParent,
        };
        return GrainReferences<IDeliveryGrain>.Get(grains, new DeliveryKey(destination, command.Id).ToString()).Accept(envelope, attemptNow: true);
    }
}
