using System.Runtime.Serialization;
using System.Text.Json.Serialization;

namespace Relay.Contracts;

/// <summary>What an application sends once: a payload, a few identifiers, and where it goes.</summary>
/// <remarks>The same shape serves the JSON API (camelCase names) and the SOAP front door.</remarks>
[DataContract(Name = "SendRequest", Namespace = RelayNamespaces.Messaging)]
public sealed class SendRequest
{
    /// <summary>Idempotency key; the router makes one when absent.</summary>
    [DataMember(Order = 0, EmitDefaultValue = false)] public string? Id { get; set; }
    [DataMember(Order = 1, EmitDefaultValue = false)] public string? Destination { get; set; }
    [DataMember(Order = 2, EmitDefaultValue = false)] public string? Topic { get; set; }
    [DataMember(Order = 3, EmitDefaultValue = false)] public string? Payload { get; set; }
    [DataMember(Order = 4, EmitDefaultValue = false)] public string? PayloadBase64 { get; set; }
    [DataMember(Order = 5, EmitDefaultValue = false)] public string? ContentType { get; set; }
    [DataMember(Order = 6, EmitDefaultValue = false)] public Dictionary<string, string>? Headers { get; set; }
    [DataMember(Order = 7, EmitDefaultValue = false)] public string? Contract { get; set; }
    [DataMember(Order = 8, EmitDefaultValue = false)] public string? Notify { get; set; }
    [DataMember(Order = 9, EmitDefaultValue = false)] public string? OrderingKey { get; set; }
    [DataMember(Order = 10, EmitDefaultValue = false)] public string? CorrelationId { get; set; }
}

/// <summary>The state of a message: the answer of a send and of a status read.</summary>
[DataContract(Name = "SendResult", Namespace = RelayNamespaces.Messaging)]
public sealed class SendResult
{
    [DataMember(Order = 0)] public string Id { get; set; } = "";
    [DataMember(Order = 1)] public DeliveryStatus Status { get; set; }
    [DataMember(Order = 2)] public DateTimeOffset AcceptedAt { get; set; }
    [DataMember(Order = 3)] public List<DeliveryResult> Deliveries { get; set; } = [];
    /// <summary>The audit trail, one entry per attempt; only on a status read.</summary>
    [DataMember(Order = 4, EmitDefaultValue = false), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public List<AttemptRecord>? Attempts { get; set; }
    /// <summary>Operator actions on this message (resubmits, edits, discards), oldest first; only on a status read.</summary>
    [DataMember(Order = 5, EmitDefaultValue = false), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public List<OperatorEvent>? Events { get; set; }
    [DataMember(Order = 6, EmitDefaultValue = false), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? CorrelationId { get; set; }
    [DataMember(Order = 7, EmitDefaultValue = false), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Topic { get; set; }
}

[DataContract(Name = "DeliveryResult", Namespace = RelayNamespaces.Messaging)]
public sealed class DeliveryResult
{
    [DataMember(Order = 0)] public string Destination { get; set; } = "";
    [DataMember(Order = 1)] public DeliveryStatus Status { get; set; }
    [DataMember(Order = 2)] public int Attempts { get; set; }
    [DataMember(Order = 3)] public DateTimeOffset? NextAttemptAt { get; set; }
    [DataMember(Order = 4)] public string? LastError { get; set; }
    [DataMember(Order = 5)] public DeliveryResponse? Response { get; set; }
    [DataMember(Order = 6, EmitDefaultValue = false), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public DateTimeOffset? CompletedAt { get; set; }
}

/// <summary>What the destination answered to the successful (or last) attempt.</summary>
[DataContract(Name = "DeliveryResponse", Namespace = RelayNamespaces.Messaging)]
public sealed class DeliveryResponse
{
    [DataMember(Order = 0)] public int? StatusCode { get; set; }
    [DataMember(Order = 1, EmitDefaultValue = false)] public Dictionary<string, string>? Headers { get; set; }
    /// <summary>
    /// The body, up to 64 KiB, as text: valid UTF-8 as it is; NUL, bytes that are not UTF-8, and a backslash
    /// followed by <c>x</c> as <c>\xHH</c> (docs/ADAPTERS.md, "What a destination answered"). Header values alike.
    /// </summary>
    [DataMember(Order = 2, EmitDefaultValue = false)] public string? Body { get; set; }
}

[DataContract(Name = "AttemptRecord", Namespace = RelayNamespaces.Messaging)]
public sealed class AttemptRecord
{
    [DataMember(Order = 0)] public DateTimeOffset At { get; set; }
    [DataMember(Order = 1)] public string Destination { get; set; } = "";
    [DataMember(Order = 2)] public int Attempt { get; set; }
    [DataMember(Order = 3)] public string? Silo { get; set; }
    [DataMember(Order = 4)] public long DurationMs { get; set; }
    [DataMember(Order = 5)] public AttemptOutcome Outcome { get; set; }
    [DataMember(Order = 6)] public int? StatusCode { get; set; }
    [DataMember(Order = 7)] public string? Error { get; set; }
    [DataMember(Order = 8)] public string? ResponseBody { get; set; }
}

[DataContract(Name = "OperatorEvent", Namespace = RelayNamespaces.Messaging)]
public sealed class OperatorEvent
{
    [DataMember(Order = 0)] public DateTimeOffset At { get; set; }
    [DataMember(Order = 1)] public string Destination { get; set; } = "";
    /// <summary>
    /// <c>Resubmitted</c> or <c>Discarded</c> (by an operator), or <c>Parked</c>: Relay dead-lettered the delivery
    /// because the database refused to store it; <see cref="Detail"/> says why.
    /// </summary>
    [DataMember(Order = 2)] public string Action { get; set; } = "";
    [DataMember(Order = 3)] public string? By { get; set; }
    [DataMember(Order = 4)] public string? Detail { get; set; }
}

[DataContract(Name = "DeliveryStatus", Namespace = RelayNamespaces.Messaging)]
public enum DeliveryStatus
{
    [EnumMember] Pending,
    [EnumMember] Delivered,
    [EnumMember] InRetry,
    [EnumMember] DeadLettered,
    [EnumMember] Discarded,
}

[DataContract(Name = "AttemptOutcome", Namespace = RelayNamespaces.Messaging)]
public enum AttemptOutcome
{
    [EnumMember] Success,
    [EnumMember] RetryableFailure,
    [EnumMember] NonRetryableFailure,
}

public static class RelayNamespaces
{
    public const string Messaging = "urn:relay:messaging:v1";
}

/// <summary>A destination's circuit breaker.</summary>
[DataContract(Name = "CircuitState", Namespace = RelayNamespaces.Messaging)]
public enum CircuitState
{
    /// <summary>Attempts go out.</summary>
    [EnumMember] Closed,
    /// <summary>Attempts are held back until the break is over.</summary>
    [EnumMember] Open,
    /// <summary>The break is over; one probe attempt decides.</summary>
    [EnumMember] HalfOpen,
}
