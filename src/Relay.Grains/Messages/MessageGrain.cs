using Microsoft.Extensions.Options;
using Orleans.Placement;
using Relay.Core;
using Relay.Core.Messages;
using Relay.Core.Options;
using Relay.Core.Storage;
using Relay.Grains.Delivery;

namespace Relay.Grains.Messages;

// On the silo that took the request: it only fans out, so a hop elsewhere would buy nothing.
[PreferLocalPlacement]
internal sealed class MessageGrain(IRelayStore store, IOptions<RelayOptions> options, TimeProvider time) : Grain, IMessageGrain
{
    private readonly RelayOptions _options = options.Value;

    public async Task<MessageView> Send(SendCommand command)
    {
        var id = this.GetPrimaryKeyString();
        // One indexed read: was this id seen before, and with the same content?
        var existing = await store.GetMessageAsync(id, includeAudit: false);
        if (existing is { Deliveries.Count: > 0 }
            && existing.Deliveries.Any(d => !string.Equals(d.ContentHash, command.ContentHash, StringComparison.Ordinal)
                // Another sender's message with this id is not this sender's to see: it is a different message.
                || !string.Equals(d.Sender, command.Sender, StringComparison.Ordinal)))
        {
            throw new RelayGrainException(RelayError.Conflict(
                $"A different message was already accepted with id '{id}'.",
                "Send new content with a new id; sending the same content again answers its state."));
        }

        var acceptedAt = existing is { Deliveries.Count: > 0 } ? existing.Deliveries.Min(d => d.AcceptedAt) : RelayClock.Now(time);
        var deliveries = await Task.WhenAll(command.Destinations.Select(destination =>
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
        }));

        return new MessageView { Id = id, AcceptedAt = acceptedAt, Deliveries = deliveries, Repeated = existing is { Deliveries.Count: > 0 } };
    }
}
