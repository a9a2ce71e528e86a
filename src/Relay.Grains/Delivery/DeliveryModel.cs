using Relay.Contracts;

namespace Relay.Grains.Delivery;

/// <summary>What a delivery grain is given when its message is accepted.</summary>
[GenerateSerializer, Immutable]
public sealed record DeliveryEnvelope
{
    [Id(0)] public required string MessageId { get; init; }
    [Id(1)] public required string Destination { get; init; }
    [Id(2)] public string? Topic { get; init; }
    [Id(3)] public required byte[] Payload { get; init; }
    [Id(4)] public required string ContentType { get; init; }
    [Id(5)] public required Dictionary<string, string> Headers { get; init; }
    /// <summary>Contract override; null: the destination's own.</summary>
    [Id(6)] public string? Contract { get; init; }
    /// <summary>Where the final notification goes; null: none.</summary>
    [Id(7)] public string? Notify { get; init; }
    [Id(8)] public string? OrderingKey { get; init; }
    [Id(9)] public string? CorrelationId { get; init; }
    [Id(10)] public required string ContentHash { get; init; }
    [Id(11)] public required DateTimeOffset AcceptedAt { get; init; }
    /// <summary>True for a final notification: it never notifies in turn.</summary>
    [Id(12)] public bool IsNotification { get; init; }
    /// <summary>The name of the sender key that sent it (never the key); null when no keys are configured.</summary>
    [Id(13)] public string? Sender { get; init; }
    /// <summary>The W3C <c>traceparent</c> its attempts join; null: none.</summary>
    [Id(14)] public string? TraceParent { get; init; }

    /// <summary>Ids only: Orleans traces messages with ToString, and payloads and headers must not reach logs.</summary>
    public override string ToString() => $"DeliveryEnvelope {{ {Destination}/{MessageId} }}";
}

/// <summary>A delivery as the API shows it.</summary>
[GenerateSerializer, Immutable]
public sealed record DeliveryView
{
    [Id(0)] public required string MessageId { get; init; }
    [Id(1)] public required string Destination { get; init; }
    [Id(2)] public required DeliveryStatus Status { get; init; }
    [Id(3)] public required int Attempts { get; init; }
    [Id(4)] public DateTimeOffset? NextAttemptAt { get; init; }
    [Id(5)] public string? LastError { get; init; }
    [Id(6)] public int? ResponseStatusCode { get; init; }
    [Id(7)] public Dictionary<string, string>? ResponseHeaders { get; init; }
    [Id(8)] public string? ResponseBody { get; init; }
    [Id(9)] public required DateTimeOffset AcceptedAt { get; init; }
    [Id(10)] public DateTimeOffset? CompletedAt { get; init; }
    [Id(11)] public required string ContentHash { get; init; }
    /// <summary>Answered from what was stored before: a repeated send of the same message.</summary>
    [Id(12)] public bool Repeated { get; init; }

    /// <summary>No response body or headers: Orleans traces messages with ToString.</summary>
    public override string ToString() => $"DeliveryView {{ {Destination}/{MessageId} {Status} after {Attempts} attempts }}";
}

/// <summary>An operator's resubmit of one delivery.</summary>
[GenerateSerializer, Immutable]
public sealed record ResubmitCommand
{
    /// <summary>Edited payload; null keeps the stored one.</summary>
    [Id(0)] public byte[]? Payload { get; init; }
    /// <summary>Another contract; null keeps the current one.</summary>
    [Id(1)] public string? Contract { get; init; }
    /// <summary>Who asked (operator key name, or "anonymous").</summary>
    [Id(2)] public string? By { get; init; }
    /// <summary>Make the first new attempt within the call (single resubmit) or leave it to the scheduler (bulk).</summary>
    [Id(3)] public bool AttemptNow { get; init; }
    /// <summary>The delivery was named explicitly: an InRetry one may then be resubmitted too.</summary>
    [Id(4)] public bool Named { get; init; }

    /// <summary>No payload: Orleans traces messages with ToString.</summary>
    public override string ToString() => $"ResubmitCommand {{ by {By}, payload edited: {Payload is not null}, contract: {Contract} }}";
}

/// <summary>What a delivery carries, as an operator reads it before editing.</summary>
[GenerateSerializer, Immutable]
public sealed record DeliveryContent
{
    [Id(0)] public required byte[] Payload { get; init; }
    [Id(1)] public required string ContentType { get; init; }
    [Id(2)] public required Dictionary<string, string> Headers { get; init; }
    /// <summary>The contract override; null: the destination's own.</summary>
    [Id(3)] public string? Contract { get; init; }

    /// <summary>No payload or headers: Orleans traces messages with ToString.</summary>
    public override string ToString() => $"DeliveryContent {{ {Payload.Length} bytes {ContentType} }}";
}

/// <summary>An asynchronous acknowledgment (or error list) of a delivery, as <see cref="IDeliveryGrain.Acknowledge"/> takes it.</summary>
[GenerateSerializer, Immutable]
public sealed record AcknowledgmentCommand
{
    /// <summary>The ebXML MessageId acknowledged (<c>RefToMessageId</c>).</summary>
    [Id(0)] public required string EbmsMessageId { get; init; }
    /// <summary>Success (an acknowledgment), RetryableFailure (DeliveryFailure) or NonRetryableFailure (a final error).</summary>
    [Id(1)] public required AttemptOutcome Outcome { get; init; }
    /// <summary>The error list in words, for the audit; null for an acknowledgment.</summary>
    [Id(2)] public string? Error { get; init; }
    /// <summary>The signal as received (cut to the response body limit), for the audit.</summary>
    [Id(3)] public string? Body { get; init; }

    /// <summary>No body: Orleans traces messages with ToString.</summary>
    public override string ToString() => $"AcknowledgmentCommand {{ {EbmsMessageId} {Outcome} }}";
}

/// <summary>What became of an acknowledgment.</summary>
[GenerateSerializer]
public enum AcknowledgmentResult
{
    /// <summary>The delivery took it (Delivered, DeadLettered, or InRetry after a retryable error).</summary>
    Completed,
    /// <summary>No such delivery.</summary>
    Unknown,
    /// <summary>The delivery is final already: nothing changes.</summary>
    AlreadyFinal,
    /// <summary>The delivery's MessageId is another now (its payload was edited): nothing changes.</summary>
    NotCurrent,
}
