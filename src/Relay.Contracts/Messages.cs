using System.Runtime.Serialization;
using System.Text.Json.Serialization;

namespace Relay.Contracts;

/// <summary>What an application sends once: a payload, a few identifiers, and where it goes.</summary>
/// <remarks>The same shape serves the JSON API (camelCase names) and the SOAP front door.</remarks>
[DataContract(Name = "SendRequest", Namespace = RelayNamespaces.Messaging)]
public sealed class SendRequest
{
    /// <summary>
    /// Idempotency key; the router makes one when absent. 1 to 200 printable characters; ids starting with <c>~</c>
    /// are reserved. The same id with the same content answers the existing state; with other content, 409.
    /// </summary>
    [DataMember(Order = 0, EmitDefaultValue = false)] public string? Id { get; set; }
    /// <summary>A configured destination; exactly one of <c>destination</c> and <c>topic</c>.</summary>
    [DataMember(Order = 1, EmitDefaultValue = false)] public string? Destination { get; set; }
    /// <summary>A configured topic: one delivery per subscriber; exactly one of <c>destination</c> and <c>topic</c>.</summary>
    [DataMember(Order = 2, EmitDefaultValue = false)] public string? Topic { get; set; }
    /// <summary>The payload as text (sent as UTF-8); or <c>payloadBase64</c>. Not empty, at most Relay:Limits:MaxPayloadBytes (413).</summary>
    [DataMember(Order = 3, EmitDefaultValue = false)] public string? Payload { get; set; }
    /// <summary>The payload as bytes, standard base64; or <c>payload</c>.</summary>
    [DataMember(Order = 4, EmitDefaultValue = false)] public string? PayloadBase64 { get; set; }
    /// <summary>The payload's media type; default <c>text/plain; charset=utf-8</c>, or <c>application/octet-stream</c> for <c>payloadBase64</c>.</summary>
    [DataMember(Order = 5, EmitDefaultValue = false)] public string? ContentType { get; set; }
    /// <summary>
    /// Headers the destination receives (at most 64, single-line values up to 8 KiB). Those the transport or Relay owns
    /// (<c>Host</c>, <c>Content-Type</c>, hop-by-hop, <c>Idempotency-Key</c>, <c>X-Relay-*</c>, <c>traceparent</c>...) are refused.
    /// </summary>
    [DataMember(Order = 6, EmitDefaultValue = false)] public Dictionary<string, string>? Headers { get; set; }
    /// <summary>A configured retry contract instead of the destination's.</summary>
    [DataMember(Order = 7, EmitDefaultValue = false)] public string? Contract { get; set; }
    /// <summary>The destination that gets the final notification; default the destination's <c>Notify</c>; <c>none</c>: no notification.</summary>
    [DataMember(Order = 8, EmitDefaultValue = false)] public string? Notify { get; set; }
    /// <summary>Deliveries of one key to one destination go out strictly in the order accepted; a failing head holds the rest back.</summary>
    [DataMember(Order = 9, EmitDefaultValue = false)] public string? OrderingKey { get; set; }
    /// <summary>Sent to the destination as <c>X-Relay-Correlation-Id</c> and in the final notification.</summary>
    [DataMember(Order = 10, EmitDefaultValue = false)] public string? CorrelationId { get; set; }
    /// <summary>
    /// For ebXML destinations (<c>Protocol: Ebms2</c>) only: this message's <c>Service</c> and <c>Action</c> instead of
    /// the destination's. Refused (400) when a destination of the message is not an ebXML one.
    /// </summary>
    [DataMember(Order = 11, EmitDefaultValue = false)] public EbmsFields? Ebms { get; set; }
}

/// <summary>
/// The ebMS 2.0 header values a message may set for itself (<see cref="SendRequest.Ebms"/>); each absent one is the
/// destination's. Each is 1 to 256 printable characters.
/// </summary>
[DataContract(Name = "EbmsFields", Namespace = RelayNamespaces.Messaging)]
public sealed class EbmsFields
{
    /// <summary><c>eb:Service</c>: a URI, or any text with <see cref="ServiceType"/>.</summary>
    [DataMember(Order = 0, EmitDefaultValue = false)] public string? Service { get; set; }
    /// <summary><c>eb:Service/@eb:type</c>; only with <see cref="Service"/> (the two replace the destination's together).</summary>
    [DataMember(Order = 1, EmitDefaultValue = false)] public string? ServiceType { get; set; }
    /// <summary><c>eb:Action</c>.</summary>
    [DataMember(Order = 2, EmitDefaultValue = false)] public string? Action { get; set; }
}

/// <summary>The state of a message: the answer of a send and of a status read.</summary>
[DataContract(Name = "SendResult", Namespace = RelayNamespaces.Messaging)]
public sealed class SendResult
{
    /// <summary>The message id (the sender's, or the one Relay made).</summary>
    [DataMember(Order = 0)] public string Id { get; set; } = "";
    /// <summary>Its deliveries' worst: any InRetry, else any Pending, else any DeadLettered, else Delivered (Discarded when all are).</summary>
    [DataMember(Order = 1)] public DeliveryStatus Status { get; set; }
    /// <summary>When it was accepted and stored.</summary>
    [DataMember(Order = 2)] public DateTimeOffset AcceptedAt { get; set; }
    /// <summary>One per destination.</summary>
    [DataMember(Order = 3)] public List<DeliveryResult> Deliveries { get; set; } = [];
    /// <summary>The audit trail, one entry per attempt; only on a status read.</summary>
    [DataMember(Order = 4, EmitDefaultValue = false), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public List<AttemptRecord>? Attempts { get; set; }
    /// <summary>Operator actions on this message (resubmits, edits, discards), oldest first; only on a status read.</summary>
    [DataMember(Order = 5, EmitDefaultValue = false), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public List<OperatorEvent>? Events { get; set; }
    /// <summary>As sent; absent when none.</summary>
    [DataMember(Order = 6, EmitDefaultValue = false), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? CorrelationId { get; set; }
    /// <summary>The topic it was sent to; absent when sent to a destination.</summary>
    [DataMember(Order = 7, EmitDefaultValue = false), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Topic { get; set; }
    /// <summary>
    /// Sent to a topic: the subscribers that took the message (those whose filter it matched), one delivery each;
    /// empty when it matched no subscriber's filter (then nothing was stored). Absent when sent to a destination.
    /// </summary>
    [DataMember(Order = 8, EmitDefaultValue = false), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public List<string>? Subscribers { get; set; }
}

/// <summary>One message on its way to one destination.</summary>
[DataContract(Name = "DeliveryResult", Namespace = RelayNamespaces.Messaging)]
public sealed class DeliveryResult
{
    /// <summary>The destination's name.</summary>
    [DataMember(Order = 0)] public string Destination { get; set; } = "";
    [DataMember(Order = 1)] public DeliveryStatus Status { get; set; }
    /// <summary>Attempts made (counted afresh after a resubmit).</summary>
    [DataMember(Order = 2)] public int Attempts { get; set; }
    /// <summary>When the next attempt is due (InRetry); null otherwise.</summary>
    [DataMember(Order = 3)] public DateTimeOffset? NextAttemptAt { get; set; }
    /// <summary>The last failure in words (<c>503 Service Unavailable</c>, a timeout, why it was parked); null after a success.</summary>
    [DataMember(Order = 4)] public string? LastError { get; set; }
    /// <summary>What the destination answered to the last attempt that got an answer; null when none did.</summary>
    [DataMember(Order = 5)] public DeliveryResponse? Response { get; set; }
    /// <summary>When it reached its final status; absent before.</summary>
    [DataMember(Order = 6, EmitDefaultValue = false), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public DateTimeOffset? CompletedAt { get; set; }
}

/// <summary>What the destination answered to the successful (or last) attempt.</summary>
[DataContract(Name = "DeliveryResponse", Namespace = RelayNamespaces.Messaging)]
public sealed class DeliveryResponse
{
    /// <summary>The protocol's reply code: the HTTP status, the FTP or SMTP reply, the LDAP result code.</summary>
    [DataMember(Order = 0)] public int? StatusCode { get; set; }
    /// <summary>The few headers of note (HTTP: Content-Type, Location, Retry-After, ETag, Date).</summary>
    [DataMember(Order = 1, EmitDefaultValue = false)] public Dictionary<string, string>? Headers { get; set; }
    /// <summary>
    /// The body, up to 64 KiB, as text: valid UTF-8 as it is; NUL, bytes that are not UTF-8, and a backslash
    /// followed by <c>x</c> as <c>\xHH</c> (docs/ADAPTERS.md, "What a destination answered"). Header values alike.
    /// </summary>
    [DataMember(Order = 2, EmitDefaultValue = false)] public string? Body { get; set; }
}

/// <summary>One attempt of one delivery, as the audit keeps it.</summary>
[DataContract(Name = "AttemptRecord", Namespace = RelayNamespaces.Messaging)]
public sealed class AttemptRecord
{
    /// <summary>When the attempt ended.</summary>
    [DataMember(Order = 0)] public DateTimeOffset At { get; set; }
    [DataMember(Order = 1)] public string Destination { get; set; } = "";
    /// <summary>The attempt's number, 1 for the first (afresh after a resubmit).</summary>
    [DataMember(Order = 2)] public int Attempt { get; set; }
    /// <summary>The silo that made it.</summary>
    [DataMember(Order = 3)] public string? Silo { get; set; }
    [DataMember(Order = 4)] public long DurationMs { get; set; }
    [DataMember(Order = 5)] public AttemptOutcome Outcome { get; set; }
    /// <summary>The protocol's reply code, when there was an answer.</summary>
    [DataMember(Order = 6)] public int? StatusCode { get; set; }
    /// <summary>The failure in words; null after a success.</summary>
    [DataMember(Order = 7)] public string? Error { get; set; }
    /// <summary>What the destination answered, truncated as <c>response.body</c>.</summary>
    [DataMember(Order = 8)] public string? ResponseBody { get; set; }
}

/// <summary>What an operator (or Relay) did to a delivery, as the audit keeps it.</summary>
[DataContract(Name = "OperatorEvent", Namespace = RelayNamespaces.Messaging)]
public sealed class OperatorEvent
{
    [DataMember(Order = 0)] public DateTimeOffset At { get; set; }
    [DataMember(Order = 1)] public string Destination { get; set; } = "";
    /// <summary>
    /// <c>Resubmitted</c> or <c>Discarded</c> (by an operator), or <c>Parked</c>: Relay dead-lettered the delivery
    /// because the database refused to store it; <see cref="Detail"/> says why. <c>Acknowledged</c>: an ebXML partner
    /// acknowledged it (or reported an error list) after the attempt; <see cref="Detail"/> says which.
    /// </summary>
    [DataMember(Order = 2)] public string Action { get; set; } = "";
    /// <summary>The operator key's name (<c>anonymous</c> without keys), or <c>Relay</c>.</summary>
    [DataMember(Order = 3)] public string? By { get; set; }
    /// <summary>What changed: <c>payload edited (32 bytes)</c>, <c>contract quick → patient</c>, a parking's reason.</summary>
    [DataMember(Order = 4)] public string? Detail { get; set; }
}

/// <summary>
/// Pending (stored, first attempt not finished, or held), InRetry (next attempt scheduled), Delivered,
/// DeadLettered (retries exhausted or a non-retryable error; resubmittable), Discarded (removed by an operator),
/// AwaitingAcknowledgment (sent; the destination's asynchronous acknowledgment has not come yet: ebXML).
/// </summary>
[DataContract(Name = "DeliveryStatus", Namespace = RelayNamespaces.Messaging)]
public enum DeliveryStatus
{
    [EnumMember] Pending,
    [EnumMember] Delivered,
    [EnumMember] InRetry,
    [EnumMember] DeadLettered,
    [EnumMember] Discarded,
    /// <summary>
    /// Sent, and waiting for the destination's acknowledgment, which comes later on a request of its own (an ebXML
    /// destination with <c>SyncReply: false</c>): not final. Without it by the contract's delay, the next attempt goes.
    /// Added last, so the values before it keep their numbers.
    /// </summary>
    [EnumMember] AwaitingAcknowledgment,
}

/// <summary>Success; RetryableFailure (another attempt follows, per the contract); NonRetryableFailure (dead-lettered).</summary>
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
