using System.Diagnostics;
using Relay.Contracts;

namespace Relay.Core.Telemetry;

/// <summary>
/// The names Relay's traces and metrics are published under (docs/OPERATIONS.md, "Metrics" and "Tracing"), and the
/// one <see cref="ActivitySource"/> of its spans. Attribute names follow OpenTelemetry's conventions: dotted,
/// lower case, namespaced <c>relay.*</c> where no general convention fits.
/// </summary>
public static class RelayTelemetry
{
    /// <summary>The name of Relay's <see cref="ActivitySource"/> and <see cref="System.Diagnostics.Metrics.Meter"/>.</summary>
    public const string Name = "Relay";

    /// <summary>Relay's spans: <see cref="SendSpan"/> per message, <see cref="AttemptSpan"/> per attempt.</summary>
    public static readonly ActivitySource Source = new(Name);

    /// <summary>A send through a front door (POST /messages or SOAP Send), from validation to the answer.</summary>
    public const string SendSpan = "relay.send";

    /// <summary>One attempt of one delivery: a child of the message's <see cref="SendSpan"/>, retries included.</summary>
    public const string AttemptSpan = "relay.attempt";

    public const string MessageIdTag = "messaging.message.id";
    public const string DestinationTag = "relay.destination";
    public const string TopicTag = "relay.topic";
    public const string FrontDoorTag = "relay.front_door";
    public const string AttemptTag = "relay.attempt";
    public const string OutcomeTag = "relay.attempt.outcome";
    public const string StatusTag = "relay.delivery.status";
    public const string MessageStatusTag = "relay.message.status";
    public const string StatusCodeTag = "relay.response.status_code";
    public const string ErrorTypeTag = "error.type";

    /// <summary>Enum names as constants: <c>Enum.ToString</c> boxes, and a tag is written per attempt.</summary>
    public static string Of(AttemptOutcome outcome) => outcome switch
    {
        AttemptOutcome.Success => nameof(AttemptOutcome.Success),
        AttemptOutcome.RetryableFailure => nameof(AttemptOutcome.RetryableFailure),
        _ => nameof(AttemptOutcome.NonRetryableFailure),
    };

    public static string Of(DeliveryStatus status) => status switch
    {
        DeliveryStatus.Pending => nameof(DeliveryStatus.Pending),
        DeliveryStatus.Delivered => nameof(DeliveryStatus.Delivered),
        DeliveryStatus.InRetry => nameof(DeliveryStatus.InRetry),
        DeliveryStatus.DeadLettered => nameof(DeliveryStatus.DeadLettered),
        DeliveryStatus.AwaitingAcknowledgment => nameof(DeliveryStatus.AwaitingAcknowledgment),
        _ => nameof(DeliveryStatus.Discarded),
    };

    /// <summary>A span of Relay's that a listener records (not the bare activity that only carries a trace on).</summary>
    public static bool IsRecorded([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] Activity? activity) =>
        activity is { IsAllDataRequested: true } && ReferenceEquals(activity.Source, Source);

    /// <summary>
    /// The W3C <c>traceparent</c> a delivery keeps, so that its attempts (retries hours later included) join the
    /// message's trace: the send span's when Relay's spans are recorded; else, when the application sent a
    /// <c>traceparent</c>, the incoming request's; else none (nothing to join, nothing stored).
    /// </summary>
    public static string? TraceParentToKeep(Activity? send)
    {
        var activity = send ?? Activity.Current;
        if (activity is not { IdFormat: ActivityIdFormat.W3C })
        {
            return null;
        }

        return send is not null || activity.ParentId is not null ? activity.Id : null;
    }

    /// <summary>
    /// Starts the span of one attempt as a child of the kept <paramref name="traceParent"/>. When nothing records
    /// Relay's spans (tracing not exported) but the delivery carries a trace context, a bare activity is started
    /// anyway, so that HttpClient still passes the trace on to the destination in <c>traceparent</c>. Null when there
    /// is neither: nothing is allocated.
    /// </summary>
    public static Activity? StartAttempt(string? traceParent, string messageId, string destination, int attempt)
    {
        var hasParent = ActivityContext.TryParse(traceParent, traceState: null, isRemote: true, out var parent);
        var activity = Source.StartActivity(AttemptSpan, ActivityKind.Internal, parent);
        if (activity is null)
        {
            if (!hasParent)
            {
                return null;
            }

            activity = new Activity(AttemptSpan);
            activity.SetParentId(parent.TraceId, parent.SpanId, parent.TraceFlags);
            return activity.Start();
        }

        if (IsRecorded(activity))
        {
            activity.SetTag(MessageIdTag, messageId);
            activity.SetTag(DestinationTag, destination);
            activity.SetTag(AttemptTag, attempt);
        }

        return activity;
    }
}
