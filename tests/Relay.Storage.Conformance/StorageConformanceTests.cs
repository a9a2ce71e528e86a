using Orleans;
using Orleans.Runtime;
using Relay.Contracts;
using Relay.Core.Messages;
using Relay.Core.Storage;
using Relay.Grains.Delivery;

namespace Relay.Storage.Conformance;

/// <summary>
/// What every storage backend must do; a backend subclasses this suite and passes it before it is called done.
/// </summary>
/// <remarks>
/// The tests of one class share one store, so each test uses names of its own (a unique destination, grain
/// or time window) and never assumes the store is empty beyond that. A subclass gives each test class a
/// fresh, empty store. Times are whole milliseconds: backends keep that precision, not more.
/// </remarks>
public abstract partial class StorageConformanceTests
{
    private StorageUnderTest? _storage;

    /// <summary>The backend under test; called once per test, and may answer one shared per test class.</summary>
    protected abstract StorageUnderTest CreateStorage();

    protected StorageUnderTest Storage => _storage ??= CreateStorage();

    /// <summary>
    /// The stored sizes of a state: its data row, and its content row (null when none), in bytes, read with SQL, so
    /// that a test sees what a write really stored.
    /// </summary>
    protected abstract Task<(long Data, long? Content)> StoredSizesAsync(GrainId grainId, string stateName);

    protected static readonly DateTimeOffset BaseTime = new(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);

    protected static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    protected static GrainId NewGrainId(string type = "test") => GrainId.Create(type, Guid.NewGuid().ToString("N"));

    protected async Task<GrainState<T>> WriteAsync<T>(GrainId grainId, T state, string? eTag = null, string stateName = "state")
    {
        var grainState = new GrainState<T>(state, eTag!);
        await Storage.GrainStorage.WriteStateAsync(stateName, grainId, grainState);
        return grainState;
    }

    protected async Task<GrainState<T>> ReadAsync<T>(GrainId grainId, string stateName = "state")
        where T : new()
    {
        var grainState = new GrainState<T>(new T());
        await Storage.GrainStorage.ReadStateAsync(stateName, grainId, grainState);
        return grainState;
    }

    /// <summary>An index row like the delivery grain's, with its shard from the delivery key.</summary>
    protected static DeliveryRow Row(
        string messageId,
        string destination,
        DeliveryStatus status = DeliveryStatus.Pending,
        DateTimeOffset? acceptedAt = null,
        DateTimeOffset? dueAt = null) => new()
        {
            MessageId = messageId,
            Destination = destination,
            Status = status,
            Attempts = 0,
            AcceptedAt = acceptedAt ?? BaseTime,
            UpdatedAt = acceptedAt ?? BaseTime,
            DueAt = dueAt,
            ContentHash = "sha256:" + messageId,
            Shard = new DeliveryKey(destination, messageId).Shard,
        };

    /// <summary>A new message id whose delivery to <paramref name="destination"/> falls in <paramref name="shard"/>.</summary>
    protected static string MessageIdInShard(string destination, int shard)
    {
        while (true)
        {
            var messageId = Unique("msg");
            if (new DeliveryKey(destination, messageId).Shard == shard)
            {
                return messageId;
            }
        }
    }

    protected static AuditEntry Attempt(DeliveryRow row, int sequence, DateTimeOffset at, AttemptOutcome outcome = AttemptOutcome.RetryableFailure) => new()
    {
        MessageId = row.MessageId,
        Destination = row.Destination,
        Sequence = sequence,
        Kind = AuditKind.Attempt,
        At = at,
        Attempt = sequence,
        Silo = "silo-1",
        DurationMs = 12,
        Outcome = outcome,
        StatusCode = outcome == AttemptOutcome.Success ? 200 : 503,
        Error = outcome == AttemptOutcome.Success ? null : "503 Service Unavailable",
        ResponseBody = "body " + sequence,
    };

    protected static GrainId DeliveryGrainId(DeliveryRow row) =>
        GrainId.Create("delivery", new DeliveryKey(row.Destination, row.MessageId).ToString());

    /// <summary>Writes a delivery grain's state (row and new audit) as the delivery grain does.</summary>
    protected Task<GrainState<DeliveryState>> WriteDeliveryAsync(DeliveryRow row, string? eTag = null, params AuditEntry[] audit) =>
        WriteAsync(DeliveryGrainId(row), DeliveryStateOf(row, audit), eTag, "delivery");

    /// <summary>The delivery grain's own state type, holding <paramref name="row"/>, with <paramref name="audit"/> unsaved.</summary>
    protected static DeliveryState DeliveryStateOf(DeliveryRow row, params AuditEntry[] audit)
    {
        var state = new DeliveryState
        {
            MessageId = row.MessageId,
            Destination = row.Destination,
            Topic = row.Topic,
            Payload = System.Text.Encoding.UTF8.GetBytes($"{{\"order\":\"{row.MessageId}\"}}"),
            ContentType = "application/json",
            Status = row.Status,
            Attempts = row.Attempts,
            AcceptedAt = row.AcceptedAt,
            UpdatedAt = row.UpdatedAt,
            DueAt = row.DueAt,
            NextAttemptAt = row.NextAttemptAt,
            CompletedAt = row.CompletedAt,
            LastError = row.LastError,
            ResponseStatusCode = row.ResponseStatusCode,
            ResponseHeaders = row.ResponseHeadersJson is null
                ? null
                : System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string>>(row.ResponseHeadersJson),
            ResponseBody = row.ResponseBody,
            ContentHash = row.ContentHash,
            CorrelationId = row.CorrelationId,
            Sender = row.Sender,
        };
        state.PendingAudit.AddRange(audit);
        return state;
    }

    protected async Task<StoredMessage> GetMessageAsync(string messageId, bool includeAudit = true) =>
        await Storage.Store.GetMessageAsync(messageId, includeAudit) ?? throw new Xunit.Sdk.XunitException($"Message {messageId} not found.");
}
