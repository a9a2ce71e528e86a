using System.Diagnostics;
using System.Diagnostics.Metrics;
using Relay.Contracts;

namespace Relay.Core.Telemetry;

/// <summary>
/// Relay's instruments, on the meter <see cref="RelayTelemetry.Name"/> (table in docs/OPERATIONS.md, "Metrics").
/// Recording costs no allocation: tags go in a <see cref="TagList"/> (a struct), their values are names the
/// caller already holds, and no instrument reads the database (the delivery gauge is fed from a cache,
/// <see cref="ObserveDeliveries"/>).
/// </summary>
public sealed class RelayMetrics
{
    /// <summary>Seconds: from a millisecond up to the longest attempt timeouts people configure.</summary>
    private static readonly double[] DurationBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    private readonly Meter _meter;
    private readonly Counter<long> _messagesAccepted;
    private readonly Counter<long> _messagesUnmatched;
    private readonly Counter<long> _attempts;
    private readonly Histogram<double> _attemptDuration;
    private readonly Counter<long> _deliveriesCompleted;
    private readonly Histogram<double> _sendDuration;

    public RelayMetrics(IMeterFactory meters)
    {
        _meter = meters.Create(RelayTelemetry.Name);
        var advice = new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets };
        _messagesAccepted = _meter.CreateCounter<long>("relay.messages.accepted", "{message}",
            "Messages accepted and stored (a repeated send of the same id is not counted again).");
        _messagesUnmatched = _meter.CreateCounter<long>("relay.messages.unmatched", "{message}",
            "Messages sent to a topic whose subscribers' filters all refused them: answered, nothing stored.");
        _attempts = _meter.CreateCounter<long>("relay.delivery.attempts", "{attempt}",
            "Attempts of deliveries through their protocol adapter, by outcome.");
        _attemptDuration = _meter.CreateHistogram("relay.delivery.attempt.duration", "s",
            "How long one attempt took, from the adapter call to its answer.", advice: advice);
        _deliveriesCompleted = _meter.CreateCounter<long>("relay.deliveries.completed", "{delivery}",
            "Deliveries that reached a final status (Delivered, DeadLettered, Discarded).");
        _sendDuration = _meter.CreateHistogram("relay.send.duration", "s",
            "How long a send (POST /messages, SOAP Send) took to answer, validation, storage and first attempts included.", advice: advice);
    }

    /// <summary>A message to <paramref name="topic"/> matched none of its subscribers' filters: nothing was stored.</summary>
    public void MessageUnmatched(string topic) => _messagesUnmatched.Add(1, new TagList { { RelayTelemetry.TopicTag, topic } });

    /// <summary>A new message was stored: to a destination, or to a topic.</summary>
    public void MessageAccepted(string? destination, string? topic)
    {
        var tags = new TagList();
        if (topic is not null)
        {
            tags.Add(RelayTelemetry.TopicTag, topic);
        }
        else
        {
            tags.Add(RelayTelemetry.DestinationTag, destination);
        }

        _messagesAccepted.Add(1, tags);
    }

    public void AttemptMade(string destination, AttemptOutcome outcome, TimeSpan duration)
    {
        var tags = new TagList
        {
            { RelayTelemetry.DestinationTag, destination },
            { RelayTelemetry.OutcomeTag, RelayTelemetry.Of(outcome) },
        };
        _attempts.Add(1, tags);
        _attemptDuration.Record(duration.TotalSeconds, tags);
    }

    public void DeliveryCompleted(string destination, DeliveryStatus status) =>
        _deliveriesCompleted.Add(1, new TagList
        {
            { RelayTelemetry.DestinationTag, destination },
            { RelayTelemetry.StatusTag, RelayTelemetry.Of(status) },
        });

    /// <summary>A send answered: <paramref name="status"/> is the message's status, or null with the error's HTTP status.</summary>
    public void SendAnswered(string frontDoor, DeliveryStatus? status, int? errorStatus, TimeSpan duration)
    {
        var tags = new TagList { { RelayTelemetry.FrontDoorTag, frontDoor } };
        if (status is { } s)
        {
            tags.Add(RelayTelemetry.MessageStatusTag, RelayTelemetry.Of(s));
        }
        else
        {
            tags.Add(RelayTelemetry.MessageStatusTag, "Refused");
            tags.Add(RelayTelemetry.ErrorTypeTag, ErrorType(errorStatus));
        }

        _sendDuration.Record(duration.TotalSeconds, tags);
    }

    /// <summary>
    /// Publishes <c>relay.deliveries</c>: deliveries per destination now Pending, InRetry or DeadLettered, as
    /// <paramref name="observe"/> reports them (from a cache: a scrape must not cost a query each time).
    /// </summary>
    public void ObserveDeliveries(Func<IEnumerable<Measurement<long>>> observe) =>
        _meter.CreateObservableGauge("relay.deliveries", observe, "{delivery}",
            "Deliveries per destination now Pending, InRetry or DeadLettered; cluster-wide, refreshed from the store every few seconds.");

    private static string ErrorType(int? status) => status switch
    {
        400 => "400",
        404 => "404",
        409 => "409",
        413 => "413",
        503 => "503",
        { } other => other.ToString(System.Globalization.CultureInfo.InvariantCulture),
        null => "unknown",
    };
}
