using Relay.Contracts;
using Relay.Core.Storage;

namespace Relay.Storage.Conformance;

/// <summary>A plain grain state.</summary>
[GenerateSerializer]
public sealed class CounterState
{
    [Id(0)] public string Name { get; set; } = "";
    [Id(1)] public int Count { get; set; }
    [Id(2)] public List<string> Items { get; set; } = [];
}

/// <summary>
/// A grain state that projects a delivery row, as Relay's delivery grain does. The audit entries to add are
/// not part of the persisted state (as in the real grain, which forgets them once written).
/// </summary>
[GenerateSerializer]
public sealed class TestDeliveryState : IDeliveryProjection
{
    [Id(0)] public string MessageId { get; set; } = "";
    [Id(1)] public string Destination { get; set; } = "";
    [Id(2)] public string? Topic { get; set; }
    [Id(3)] public int Status { get; set; }
    [Id(4)] public int Attempts { get; set; }
    [Id(5)] public DateTimeOffset AcceptedAt { get; set; }
    [Id(6)] public DateTimeOffset UpdatedAt { get; set; }
    [Id(7)] public DateTimeOffset? DueAt { get; set; }
    [Id(8)] public DateTimeOffset? NextAttemptAt { get; set; }
    [Id(9)] public DateTimeOffset? CompletedAt { get; set; }
    [Id(10)] public string? LastError { get; set; }
    [Id(11)] public int? ResponseStatusCode { get; set; }
    [Id(12)] public string? ResponseHeadersJson { get; set; }
    [Id(13)] public string? ResponseBody { get; set; }
    [Id(14)] public string ContentHash { get; set; } = "";
    [Id(15)] public string? CorrelationId { get; set; }
    [Id(16)] public int Shard { get; set; }
    [Id(17)] public string? Sender { get; set; }

    [NonSerialized]
    public List<AuditEntry> Unsaved = [];

    public IReadOnlyList<AuditEntry> UnsavedAudit => Unsaved;

    public static TestDeliveryState From(DeliveryRow row, params AuditEntry[] audit) => new()
    {
        MessageId = row.MessageId,
        Destination = row.Destination,
        Topic = row.Topic,
        Status = (int)row.Status,
        Attempts = row.Attempts,
        AcceptedAt = row.AcceptedAt,
        UpdatedAt = row.UpdatedAt,
        DueAt = row.DueAt,
        NextAttemptAt = row.NextAttemptAt,
        CompletedAt = row.CompletedAt,
        LastError = row.LastError,
        ResponseStatusCode = row.ResponseStatusCode,
        ResponseHeadersJson = row.ResponseHeadersJson,
        ResponseBody = row.ResponseBody,
        ContentHash = row.ContentHash,
        CorrelationId = row.CorrelationId,
        Sender = row.Sender,
        Shard = row.Shard,
        Unsaved = [.. audit],
    };

    public DeliveryRow ToRow() => new()
    {
        MessageId = MessageId,
        Destination = Destination,
        Topic = Topic,
        Status = (DeliveryStatus)Status,
        Attempts = Attempts,
        AcceptedAt = AcceptedAt,
        UpdatedAt = UpdatedAt,
        DueAt = DueAt,
        NextAttemptAt = NextAttemptAt,
        CompletedAt = CompletedAt,
        LastError = LastError,
        ResponseStatusCode = ResponseStatusCode,
        ResponseHeadersJson = ResponseHeadersJson,
        ResponseBody = ResponseBody,
        ContentHash = ContentHash,
        CorrelationId = CorrelationId,
        Sender = Sender,
        Shard = Shard,
    };
}
