using Relay.Contracts;
using Relay.Core.Messages;

namespace Relay.Core.Storage;

/// <summary>
/// Relay's queryable view of the deliveries and their audit, kept by the storage backend in the same
/// transaction as each delivery grain's state (see <see cref="IDeliveryProjection"/>).
/// </summary>
/// <remarks>Writes happen only through grain state; this interface reads, and purges old audit rows.</remarks>
public interface IRelayStore
{
    /// <summary>Every delivery of one message, with its audit when asked. Null when the message is unknown.</summary>
    Task<StoredMessage?> GetMessageAsync(string messageId, bool includeAudit, CancellationToken cancellationToken = default);

    /// <summary>Messages newest first, matching a filter by any of their deliveries.</summary>
    Task<StoredMessagePage> ListMessagesAsync(MessageQuery query, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deliveries due at <paramref name="now"/> whose shard is in [<paramref name="shardFrom"/>, <paramref name="shardTo"/>],
    /// earliest first, leaving out the deliveries to <paramref name="excludedDestinations"/> (paused, or circuit open).
    /// </summary>
    Task<IReadOnlyList<DeliveryKey>> GetDueDeliveriesAsync(int shardFrom, int shardTo, DateTimeOffset now, int limit,
        IReadOnlyCollection<string>? excludedDestinations = null, CancellationToken cancellationToken = default);

    /// <summary>Deliveries matching a status and (optionally) a destination, for bulk operations.</summary>
    Task<IReadOnlyList<DeliveryKey>> FindDeliveriesAsync(DeliveryStatus status, string? destination, int limit, CancellationToken cancellationToken = default);

    /// <summary>
    /// The next <paramref name="limit"/> deliveries matching <paramref name="filter"/> after <paramref name="after"/> in
    /// (destination, message id) order: a keyset walk, so a delivery that changes status behind the cursor (resubmitted,
    /// then dead-lettered again) is not met twice, and one ahead of it is met once.
    /// </summary>
    Task<IReadOnlyList<DeliveryKey>> FindDeliveriesAsync(DeliveryFilter filter, DeliveryKey? after, int limit, CancellationToken cancellationToken = default);

    /// <summary>How many deliveries match <paramref name="filter"/> now.</summary>
    Task<long> CountDeliveriesAsync(DeliveryFilter filter, CancellationToken cancellationToken = default);

    /// <summary>Count of deliveries per destination and status.</summary>
    Task<IReadOnlyList<DestinationCount>> CountByDestinationAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Count of deliveries per destination and status, of those whose last change (<see cref="DeliveryRow.UpdatedAt"/>)
    /// is at or after <paramref name="since"/>: "delivered, in retry, dead-lettered in the last hour".
    /// </summary>
    Task<IReadOnlyList<DestinationCount>> CountChangedSinceAsync(DateTimeOffset since, CancellationToken cancellationToken = default);

    /// <summary>
    /// Attempts per destination in <paramref name="buckets"/> consecutive windows of <paramref name="bucketWidth"/> from
    /// <paramref name="from"/>, split into succeeded and failed (from the audit; windows without attempts are left out).
    /// </summary>
    Task<IReadOnlyList<AttemptBucket>> CountAttemptsAsync(DateTimeOffset from, TimeSpan bucketWidth, int buckets,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Removes audit entries older than <paramref name="before"/> of deliveries that are finished (Delivered or
    /// Discarded) or no longer stored; answers how many. The audit of a delivery still Pending, InRetry or DeadLettered
    /// is kept whatever its age: an operator deciding on a dead letter needs its attempts.
    /// </summary>
    Task<int> PurgeAuditAsync(DateTimeOffset before, CancellationToken cancellationToken = default);

    /// <summary>
    /// Removes the messages whose every delivery is finished (Delivered or Discarded), owes nothing more (not due) and
    /// last changed before <paramref name="before"/>: each delivery's grain state, content (payload, headers), row and
    /// audit. Answers how many deliveries it removed.
    /// </summary>
    Task<int> PurgeFinishedDeliveriesAsync(DateTimeOffset before, CancellationToken cancellationToken = default);

    /// <summary>Whether the database answers.</summary>
    Task<bool> PingAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Whether the database accepts a write: one small write, committed, of a row of its own (no delivery's), by the
    /// path the delivery states take. A commit each call: callers bound how often they ask (<c>/health</c> does).
    /// </summary>
    Task<bool> CheckWriteAsync(CancellationToken cancellationToken = default);
}

/// <summary>
/// Implemented by the persisted state of a delivery grain. A storage backend that sees it in a write
/// also upserts the delivery's index row and inserts its unsaved audit entries, in the same transaction.
/// </summary>
public interface IDeliveryProjection
{
    DeliveryRow ToRow();

    /// <summary>Audit entries not yet stored. Inserting one twice (same delivery, same sequence) must be harmless.</summary>
    IReadOnlyList<AuditEntry> UnsavedAudit { get; }
}

/// <summary>One delivery's index row: what listing, status reads and the scheduler need.</summary>
public sealed record DeliveryRow
{
    public required string MessageId { get; init; }
    public required string Destination { get; init; }
    public string? Topic { get; init; }
    public required DeliveryStatus Status { get; init; }
    public required int Attempts { get; init; }
    public required DateTimeOffset AcceptedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }
    /// <summary>When the scheduler must next look at this delivery; null when nothing is left to do.</summary>
    public DateTimeOffset? DueAt { get; init; }
    /// <summary>When the next attempt is planned (shown to users); null when none is.</summary>
    public DateTimeOffset? NextAttemptAt { get; init; }
    public DateTimeOffset? CompletedAt { get; init; }
    public string? LastError { get; init; }
    public int? ResponseStatusCode { get; init; }
    public string? ResponseHeadersJson { get; init; }
    public string? ResponseBody { get; init; }
    public required string ContentHash { get; init; }
    public string? CorrelationId { get; init; }
    /// <summary>The name of the sender key that sent it; null when sent without keys.</summary>
    public string? Sender { get; init; }
    /// <summary>0 to <see cref="DeliveryKey.ShardSpace"/> - 1, from the delivery key.</summary>
    public required int Shard { get; init; }
}

public enum AuditKind
{
    Attempt,
    Resubmitted,
    Discarded,
    /// <summary>Relay dead-lettered the delivery because the database refused to store it (its reason in Detail).</summary>
    Parked,
    /// <summary>
    /// The destination acknowledged the delivery (or reported errors about it) on a request of its own, after an attempt
    /// that awaited it (an ebXML partner's <c>POST /ebms</c>): <c>Outcome</c>, <c>Error</c> and the signal in <c>ResponseBody</c>.
    /// </summary>
    Acknowledged,
}

/// <summary>One audit entry: an attempt, or an operator's action.</summary>
public sealed record AuditEntry
{
    public required string MessageId { get; init; }
    public required string Destination { get; init; }
    /// <summary>Position in the delivery's audit, from 1; unique per delivery.</summary>
    public required int Sequence { get; init; }
    public required AuditKind Kind { get; init; }
    public required DateTimeOffset At { get; init; }
    /// <summary>Attempt number (for attempts).</summary>
    public int Attempt { get; init; }
    public string? Silo { get; init; }
    public long DurationMs { get; init; }
    public AttemptOutcome? Outcome { get; init; }
    public int? StatusCode { get; init; }
    public string? Error { get; init; }
    public string? ResponseBody { get; init; }
    /// <summary>Who did an operator action.</summary>
    public string? By { get; init; }
    /// <summary>What an operator action changed.</summary>
    public string? Detail { get; init; }
}

public sealed record StoredMessage(string MessageId, IReadOnlyList<DeliveryRow> Deliveries, IReadOnlyList<AuditEntry> Audit);

public sealed record StoredMessagePage(IReadOnlyList<StoredMessage> Items, string? NextCursor);

public sealed record MessageQuery
{
    public DeliveryStatus? Status { get; init; }
    public string? Destination { get; init; }
    /// <summary>Messages sent to this topic.</summary>
    public string? Topic { get; init; }
    /// <summary>Messages accepted at or after this time.</summary>
    public DateTimeOffset? AcceptedFrom { get; init; }
    /// <summary>Messages accepted before this time.</summary>
    public DateTimeOffset? AcceptedTo { get; init; }
    /// <summary>Messages whose id contains this text, as it is (case-sensitive; no wildcards).</summary>
    public string? IdContains { get; init; }
    public int Limit { get; init; } = 100;
    /// <summary>Opaque cursor from a previous page.</summary>
    public string? Cursor { get; init; }
}

/// <summary>The deliveries a bulk operation acts on: one status, and optionally the portal's filter fields.</summary>
public sealed record DeliveryFilter
{
    public required DeliveryStatus Status { get; init; }
    public string? Destination { get; init; }
    /// <summary>Deliveries of messages sent to this topic.</summary>
    public string? Topic { get; init; }
    /// <summary>Accepted at or after this time.</summary>
    public DateTimeOffset? AcceptedFrom { get; init; }
    /// <summary>Accepted before this time.</summary>
    public DateTimeOffset? AcceptedTo { get; init; }
    /// <summary>Message ids containing this text, as it is (case-sensitive; no wildcards).</summary>
    public string? IdContains { get; init; }
}

public sealed record DestinationCount(string Destination, DeliveryStatus Status, long Count);

/// <summary>Attempts to one destination in one window of <see cref="IRelayStore.CountAttemptsAsync"/> (0 is the first).</summary>
public sealed record AttemptBucket(string Destination, int Bucket, long Succeeded, long Failed);

/// <summary>Bounds of the portal's queries.</summary>
public static class RelayStoreLimits
{
    /// <summary>Most windows one <see cref="IRelayStore.CountAttemptsAsync"/> answers.</summary>
    public const int MaxBuckets = 1000;

    /// <summary>Longest text <see cref="MessageQuery.IdContains"/> may be.</summary>
    public const int MaxIdContainsLength = 200;

    public static void CheckBuckets(TimeSpan bucketWidth, int buckets)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(buckets, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(buckets, MaxBuckets);
        ArgumentOutOfRangeException.ThrowIfLessThan(bucketWidth, TimeSpan.FromMilliseconds(1));
    }

    public static void CheckQuery(MessageQuery query)
    {
        if (query.IdContains is { Length: > MaxIdContainsLength })
        {
            throw new ArgumentOutOfRangeException(nameof(query), $"The id text may be at most {MaxIdContainsLength} characters.");
        }
    }
}
