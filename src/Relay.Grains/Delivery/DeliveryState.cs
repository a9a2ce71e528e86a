using System.Text.Json;
using System.Text.Json.Serialization;
using Relay.Contracts;
using Relay.Core.Delivery;
using Relay.Core.Messages;
using Relay.Core.Storage;

namespace Relay.Grains.Delivery;

/// <summary>
/// The persisted state of one delivery: payload, attempt count, status and schedule. Written through
/// Orleans grain storage; the storage also keeps the index row and the audit from it in the same commit.
/// </summary>
[GenerateSerializer]
public sealed class DeliveryState : IDeliveryProjection
{
    [Id(0)] public string MessageId { get; set; } = "";
    [Id(1)] public string Destination { get; set; } = "";
    [Id(2)] public string? Topic { get; set; }
    private static readonly Dictionary<string, string> NoHeaders = new(StringComparer.OrdinalIgnoreCase);

    // Serialized through their properties below.
    [NonSerialized]
    private byte[] _payload = [];
    [NonSerialized]
    private string _contentType = "";
    [NonSerialized]
    private Dictionary<string, string> _headers = new(StringComparer.OrdinalIgnoreCase);

    // The content (payload, content type, headers) is stored apart from the rest, and written only when it changed:
    // setting any of it marks it unsaved (see DeliveryStateSerializer).
    [Id(3)]
    public byte[] Payload
    {
        get => _payload;
        set
        {
            _payload = value;
            ContentUnsaved = true;
        }
    }

    [Id(4)]
    public string ContentType
    {
        get => _contentType;
        set
        {
            _contentType = value;
            ContentUnsaved = true;
        }
    }

    [Id(5)]
    public Dictionary<string, string> Headers
    {
        get => _headers;
        set
        {
            _headers = value;
            ContentUnsaved = true;
        }
    }

    [Id(6)] public string? Contract { get; set; }
    [Id(7)] public string? Notify { get; set; }
    [Id(8)] public string? OrderingKey { get; set; }
    [Id(9)] public string? CorrelationId { get; set; }
    [Id(10)] public string ContentHash { get; set; } = "";
    [Id(11)] public DateTimeOffset AcceptedAt { get; set; }
    [Id(12)] public DeliveryStatus Status { get; set; }
    /// <summary>Attempts made since acceptance or the last resubmit.</summary>
    [Id(13)] public int Attempts { get; set; }
    [Id(14)] public DateTimeOffset? NextAttemptAt { get; set; }
    /// <summary>When the scheduler must look at this delivery again; null when nothing is left to do.</summary>
    [Id(15)] public DateTimeOffset? DueAt { get; set; }
    [Id(16)] public string? LastError { get; set; }
    [Id(17)] public int? ResponseStatusCode { get; set; }
    [Id(18)] public Dictionary<string, string>? ResponseHeaders { get; set; }
    [Id(19)] public string? ResponseBody { get; set; }
    [Id(20)] public DateTimeOffset? CompletedAt { get; set; }
    /// <summary>Went InRetry since acceptance or the last resubmit: its end is notified.</summary>
    [Id(21)] public bool WasInRetry { get; set; }
    /// <summary>Resubmits so far; the final notification of each generation is a message of its own.</summary>
    [Id(22)] public int Generation { get; set; }
    /// <summary>Last audit sequence used.</summary>
    [Id(23)] public int AuditSequence { get; set; }
    /// <summary>A final notification is owed and not yet durably handed over (outbox flag).</summary>
    [Id(24)] public bool NotificationPending { get; set; }
    [Id(25)] public bool IsNotification { get; set; }
    [Id(26)] public DateTimeOffset UpdatedAt { get; set; }
    /// <summary>Delivered or discarded with an ordering key: the next of the key is owed its release (outbox flag).</summary>
    [Id(27)] public bool OrderingReleasePending { get; set; }
    /// <summary>The name of the sender key that sent it (never the key); null when no keys are configured.</summary>
    [Id(28)] public string? Sender { get; set; }
    /// <summary>
    /// The W3C <c>traceparent</c> of the send that accepted it, so that every attempt (retries from the scheduler,
    /// hours later, included) is a span of the same trace; null when there was no trace to join. Added after
    /// release: states written before read back with null.
    /// </summary>
    [Id(29)] public string? TraceParent { get; set; }
    /// <summary>
    /// The retry contract it was accepted (or last resubmitted) with: a change of the contract in the catalog leaves it
    /// alone. Null in states stored before the catalog: they follow the contract in force.
    /// </summary>
    [Id(30)] public ContractTerms? AcceptedContract { get; set; }

    [NonSerialized]
    private List<AuditEntry>? _pendingAudit;

    /// <summary>
    /// The content (payload, content type, headers) differs from what the storage holds, or the storage holds none
    /// apart: the next write stores it. Not part of the serialized state; cleared once a write has stored it.
    /// </summary>
    [JsonIgnore]
    [field: NonSerialized]
    public bool ContentUnsaved { get; set; }

    /// <summary>
    /// What <paramref name="serialize"/> makes of this state without its content: what a write stores every time. The
    /// content is set aside for the call and put back after it, rather than the state copied on every write (issue 14):
    /// the state is its grain's, which serializes it within its turn, so nothing else sees it meanwhile.
    /// </summary>
    internal TResult WithoutContent<TArg, TResult>(Func<DeliveryState, TArg, TResult> serialize, TArg arg)
    {
        var (payload, contentType, headers) = (_payload, _contentType, _headers);
        _payload = [];
        _contentType = "";
        _headers = NoHeaders;
        try
        {
            return serialize(this, arg);
        }
        finally
        {
            (_payload, _contentType, _headers) = (payload, contentType, headers);
        }
    }

    /// <summary>The content, stored apart (written when <see cref="ContentUnsaved"/>).</summary>
    internal DeliveryStateContent Content() => new()
    {
        Payload = _payload,
        ContentType = _contentType,
        Headers = _headers,
    };

    /// <summary>Takes the content read from the storage: it is what the storage holds.</summary>
    internal void ReadContent(DeliveryStateContent content)
    {
        _payload = content.Payload;
        _contentType = content.ContentType;
        _headers = new Dictionary<string, string>(content.Headers, StringComparer.OrdinalIgnoreCase);
        ContentUnsaved = false;
    }

    /// <summary>A new delivery as its envelope gives it; its lifecycle (<see cref="DeliveryLifecycle"/>) sets its status and schedule.</summary>
    internal static DeliveryState From(DeliveryEnvelope envelope) => new()
    {
        MessageId = envelope.MessageId,
        Destination = envelope.Destination,
        Topic = envelope.Topic,
        Payload = envelope.Payload,
        ContentType = envelope.ContentType,
        Headers = new Dictionary<string, string>(envelope.Headers, StringComparer.OrdinalIgnoreCase),
        Contract = envelope.Contract,
        Notify = envelope.Notify,
        OrderingKey = envelope.OrderingKey,
        CorrelationId = envelope.CorrelationId,
        ContentHash = envelope.ContentHash,
        AcceptedAt = envelope.AcceptedAt,
        IsNotification = envelope.IsNotification,
        Sender = envelope.Sender,
        TraceParent = envelope.TraceParent,
        Status = DeliveryStatus.Pending,
    };

    /// <summary>It takes turns with the other messages of its ordering key (a notification never waits for one, and never notifies in turn).</summary>
    internal bool Ordered => OrderingKey is not null && !IsNotification;

    /// <summary>What the lifecycle reads of this state.</summary>
    internal DeliveryProgress ToProgress() => new()
    {
        MessageId = MessageId,
        Destination = Destination,
        Ordered = Ordered,
        Notifies = Notify is not null && !IsNotification,
        Status = Status,
        Attempts = Attempts,
        NextAttemptAt = NextAttemptAt,
        DueAt = DueAt,
        LastError = LastError,
        ResponseStatusCode = ResponseStatusCode,
        ResponseHeaders = ResponseHeaders,
        ResponseBody = ResponseBody,
        CompletedAt = CompletedAt,
        UpdatedAt = UpdatedAt,
        WasInRetry = WasInRetry,
        Generation = Generation,
        NotificationPending = NotificationPending,
        OrderingReleasePending = OrderingReleasePending,
        Contract = Contract,
    };

    /// <summary>Takes what the lifecycle decided (its facts fixed at acceptance are this state's already).</summary>
    internal void Apply(DeliveryProgress progress)
    {
        Status = progress.Status;
        Attempts = progress.Attempts;
        NextAttemptAt = progress.NextAttemptAt;
        DueAt = progress.DueAt;
        LastError = progress.LastError;
        ResponseStatusCode = progress.ResponseStatusCode;
        if (!ReferenceEquals(progress.ResponseHeaders, ResponseHeaders))
        {
            // An adapter's headers: kept as the API shows them, whatever their case.
            ResponseHeaders = progress.ResponseHeaders is null ? null : new Dictionary<string, string>(progress.ResponseHeaders, StringComparer.OrdinalIgnoreCase);
        }

        ResponseBody = progress.ResponseBody;
        CompletedAt = progress.CompletedAt;
        UpdatedAt = progress.UpdatedAt;
        WasInRetry = progress.WasInRetry;
        Generation = progress.Generation;
        NotificationPending = progress.NotificationPending;
        OrderingReleasePending = progress.OrderingReleasePending;
        Contract = progress.Contract;
    }

    /// <summary>A new audit entry of this delivery, numbered in its sequence; add it to <see cref="PendingAudit"/> to write it with the next state.</summary>
    internal AuditEntry NextAuditEntry(AuditKind kind, DateTimeOffset at, string silo) => new()
    {
        MessageId = MessageId,
        Destination = Destination,
        Sequence = ++AuditSequence,
        Kind = kind,
        At = at,
        Silo = silo,
    };

    /// <summary>Forgets the audit entries not yet written (refused with their state), and their sequence numbers.</summary>
    internal void DropPendingAudit()
    {
        AuditSequence -= PendingAudit.Count;
        PendingAudit.Clear();
    }

    /// <summary>Audit entries of the next write; not part of the serialized state.</summary>
    [JsonIgnore]
    public List<AuditEntry> PendingAudit => _pendingAudit ??= [];

    IReadOnlyList<AuditEntry> IDeliveryProjection.UnsavedAudit => PendingAudit;

    [JsonIgnore]
    public DeliveryKey Key => new(Destination, MessageId);

    /// <summary>The delivery's shard.</summary>
    [JsonIgnore]
    public int Shard => Key.Shard;

    public DeliveryRow ToRow() => new()
    {
        MessageId = MessageId,
        Destination = Destination,
        Topic = Topic,
        Status = Status,
        Attempts = Attempts,
        AcceptedAt = AcceptedAt,
        UpdatedAt = UpdatedAt,
        DueAt = DueAt,
        NextAttemptAt = NextAttemptAt,
        CompletedAt = CompletedAt,
        LastError = LastError,
        ResponseStatusCode = ResponseStatusCode,
        ResponseHeadersJson = ResponseHeaders is null ? null : JsonSerializer.Serialize(ResponseHeaders),
        ResponseBody = ResponseBody,
        ContentHash = ContentHash,
        CorrelationId = CorrelationId,
        Sender = Sender,
        Shard = Key.Shard,
    };

    public DeliveryView ToView() => new()
    {
        MessageId = MessageId,
        Destination = Destination,
        Status = Status,
        Attempts = Attempts,
        NextAttemptAt = NextAttemptAt,
        LastError = LastError,
        ResponseStatusCode = ResponseStatusCode,
        ResponseHeaders = ResponseHeaders,
        ResponseBody = ResponseBody,
        AcceptedAt = AcceptedAt,
        CompletedAt = CompletedAt,
        ContentHash = ContentHash,
    };
}

/// <summary>
/// The part of a delivery's state that is written once (at acceptance, and again only when an operator edits it):
/// stored apart from the state, so that an attempt's write does not carry the payload.
/// </summary>
[GenerateSerializer]
public sealed class DeliveryStateContent
{
    [Id(0)] public byte[] Payload { get; set; } = [];
    [Id(1)] public string ContentType { get; set; } = "";
    [Id(2)] public Dictionary<string, string> Headers { get; set; } = [];
}
