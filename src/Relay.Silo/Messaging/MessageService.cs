using System.Diagnostics;
using Microsoft.Extensions.Options;
using Relay.Adapters;
using Relay.Contracts;
using Relay.Core.Messages;
using Relay.Core.Options;
using Relay.Core.Storage;
using Relay.Core;
using Relay.Core.Telemetry;
using Relay.Core.Topics;
using Relay.Grains;
using Relay.Grains.Messages;
using Relay.Silo.Api;
using Relay.Silo.Security;

namespace Relay.Silo.Messaging;

/// <summary>The outcome of a send or a status read: the message's state, or an error for the caller.</summary>
public readonly record struct MessageOutcome(SendResult? Result, RelayError? Error)
{
    public static MessageOutcome Failed(RelayError error) => new(null, error);
}

/// <summary>
/// The one code path behind every front door (JSON API, SOAP): validation, idempotency, the grains, and the
/// mapping of failures to errors a caller can act on.
/// </summary>
public sealed partial class MessageService(IGrainFactory grains, IRelayStore store, IOptions<RelayOptions> options,
    Catalog.CurrentTopicRoutes topics, ProtocolAdapters adapters, RelayMetrics metrics, TimeProvider time, FirstAttemptPlacement placement,
    ILogger<MessageService> logger)
{
    /// <summary>The <c>relay.front_door</c> of a send through <c>POST /messages</c>.</summary>
    public const string HttpFrontDoor = "http";

    /// <summary>The <c>relay.front_door</c> of a send through SOAP <c>Send</c>.</summary>
    public const string SoapFrontDoor = "soap";

    /// <summary>The answer when storage or the cluster cannot confirm a request.</summary>
    public static readonly RelayError Unavailable = new(503,
        "Relay could not confirm this request: its storage or cluster is unavailable right now.",
        "Nothing was confirmed. Send the same request again later; a message with the same id is never stored twice.");

    /// <summary>
    /// Validates and accepts a message; <paramref name="caller"/> becomes its sender (who may read it). Measured
    /// (<c>relay.send.duration</c>) and traced (<c>relay.send</c>) here, so both front doors are.
    /// </summary>
    public async Task<MessageOutcome> SendAsync(SendRequest? request, RelayCaller caller, string frontDoor = HttpFrontDoor)
    {
        var started = time.GetTimestamp();
        using var span = RelayTelemetry.Source.StartActivity(RelayTelemetry.SendSpan, ActivityKind.Internal);
        span?.SetTag(RelayTelemetry.FrontDoorTag, frontDoor);
        var outcome = await SendCoreAsync(request, caller, span);
        var status = outcome.Result?.Status;
        metrics.SendAnswered(frontDoor, status, outcome.Error?.StatusCode, time.GetElapsedTime(started));
        if (span is not null)
        {
            if (status is { } s)
            {
                span.SetTag(RelayTelemetry.MessageStatusTag, RelayTelemetry.Of(s));
            }
            else
            {
                span.SetStatus(ActivityStatusCode.Error, outcome.Error?.Title);
            }
        }

        return outcome;
    }

    private async Task<MessageOutcome> SendCoreAsync(SendRequest? request, RelayCaller caller, Activity? span)
    {
        if (!MessageValidator.TryValidate(request, options.Value, topics.Value, NewId, adapters.RefusesHeader, adapters.TakeFields, out var message, out var error))
        {
            return MessageOutcome.Failed(error!);
        }

        if (span is not null)
        {
            span.SetTag(RelayTelemetry.MessageIdTag, message!.Id);
            span.SetTag(message.Topic is null ? RelayTelemetry.DestinationTag : RelayTelemetry.TopicTag, message.Topic ?? message.Destinations[0]);
        }

        if (message!.Destinations.Count == 0)
        {
            return Unmatched(message);
        }

        var command = new SendCommand
        {
            Id = message!.Id,
            Destinations = message.Destinations.ToArray(),
            Topic = message.Topic,
            Payload = message.Payload,
            ContentType = message.ContentType,
            Headers = new Dictionary<string, string>(message.Headers, StringComparer.OrdinalIgnoreCase),
            Contract = message.Contract,
            Notify = message.Notify,
            NotifyNone = message.NotifyNone,
            OrderingKey = message.OrderingKey,
            CorrelationId = message.CorrelationId,
            ContentHash = message.ContentHash,
            Sender = SenderOf(caller),
            TraceParent = RelayTelemetry.TraceParentToKeep(span),
        };
        return await GuardAsync(message.Id, async () =>
        {
            // A message to one destination goes straight to its delivery grain (activated on this silo); only a
            // fan-out or an ordered send needs a message grain in front (see MessageFanOut.NeedsMessageGrain).
            var view = MessageFanOut.NeedsMessageGrain(command)
                ? await grains.GetGrain<IMessageGrain>(message.Id).Send(command)
                : await MessageFanOut.AcceptAsync(grains, options.Value, placement.Hint, command, RelayClock.Now(time));
            if (!view.Repeated)
            {
                metrics.MessageAccepted(message.Topic is null ? message.Destinations[0] : null, message.Topic);
            }

            var result = Views.ToResult(view);
            result.CorrelationId = message.CorrelationId;
            result.Topic = message.Topic;
            if (message.Topic is not null)
            {
                result.Subscribers = result.Deliveries.Select(d => d.Destination).ToList();
            }

            return new MessageOutcome(result, null);
        });
    }

    /// <summary>
    /// A message to a topic that no subscriber's filter took: as Azure Service Bus drops a message no subscription's
    /// rule matches, and SNS and EventBridge a message no subscription or rule matches, the send succeeds and nothing is
    /// stored, because there is nothing to deliver, retry or audit. The answer says so: 200, status <c>Delivered</c>
    /// (no delivery is outstanding, as for a message whose deliveries were all discarded), no deliveries, and
    /// <c>subscribers</c> empty. Publishers need not know the subscriptions, so this is not an error; the metric
    /// <c>relay.messages.unmatched</c> counts them per topic. Sent again, the same message is routed again (same
    /// answer); <c>GET /messages/{id}</c> answers 404.
    /// </summary>
    private MessageOutcome Unmatched(ValidatedMessage message)
    {
        metrics.MessageUnmatched(message.Topic!);
        Log.Unmatched(logger, message.Id, message.Topic!);
        return new MessageOutcome(new SendResult
        {
            Id = message.Id,
            Status = DeliveryStatus.Delivered,
            AcceptedAt = RelayClock.Now(time),
            Deliveries = [],
            CorrelationId = message.CorrelationId,
            Topic = message.Topic,
            Subscribers = [],
        }, null);
    }

    /// <summary>
    /// A message's state. A sender sees only the messages it sent: another's answers 404, as an unknown id does, so
    /// that a sender cannot even learn which ids exist.
    /// </summary>
    public async Task<MessageOutcome> GetAsync(string? id, bool withAudit, RelayCaller caller, CancellationToken cancellationToken = default)
    {
        if ((id is null ? RelayError.BadRequest("Give the message id.") : MessageValidator.CheckId(id, int.MaxValue)) is { } error)
        {
            return MessageOutcome.Failed(error);
        }

        return await GuardAsync(id!, async () =>
        {
            var message = await store.GetMessageAsync(id!, includeAudit: withAudit, cancellationToken);
            return message is null || message.Deliveries.Count == 0 || !MayRead(caller, message)
                ? MessageOutcome.Failed(RelayError.NotFound($"No message with id '{id}'."))
                : new MessageOutcome(Views.ToResult(message, withAudit), null);
        });
    }

    /// <summary>The sender recorded with a message: the key's name; none for everyone-is-anonymous (no keys).</summary>
    private static string? SenderOf(RelayCaller caller) => caller == RelayPrincipal.Anonymous ? null : caller.Name;

    private static bool MayRead(RelayCaller caller, StoredMessage message) =>
        caller.Role == RelayRole.Operator
        || message.Deliveries.All(d => string.Equals(d.Sender, caller.Name, StringComparison.Ordinal));

    /// <summary>A new message id, made by the router when the sender gives none.</summary>
    public static string NewId() => Guid.CreateVersion7().ToString("N");

    private async Task<MessageOutcome> GuardAsync(string messageId, Func<Task<MessageOutcome>> action)
    {
        try
        {
            return await action();
        }
        catch (RelayGrainException ex)
        {
            return MessageOutcome.Failed(ex.ToError());
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Storage down, a silo lost, a grain call timed out: the caller cannot know whether its request took
            // effect, and a retry with the same id is safe. Logged once, with the message id.
            Log.Unavailable(logger, ex, messageId);
            return MessageOutcome.Failed(Unavailable);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3002, Level = LogLevel.Error, Message = "Message {MessageId}: storage or cluster unavailable")]
        public static partial void Unavailable(ILogger logger, Exception exception, string messageId);

        [LoggerMessage(EventId = 3003, Level = LogLevel.Debug, Message = "Message {MessageId} to topic {Topic}: no subscriber's filter matched it; nothing stored")]
        public static partial void Unmatched(ILogger logger, string messageId, string topic);
    }
}
