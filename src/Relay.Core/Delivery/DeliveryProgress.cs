using Relay.Contracts;

namespace Relay.Core.Delivery;

/// <summary>
/// What the lifecycle of one delivery reads and decides (<see cref="DeliveryLifecycle"/>): its status, attempts,
/// schedule, last outcome and what it owes. An immutable value: a transition answers a new one. The grain keeps the rest
/// of the delivery (payload, headers, ids of the sender and the trace) beside it and copies this into its stored state.
/// </summary>
public sealed record DeliveryProgress
{
    // Facts fixed at acceptance: the lifecycle reads them and never changes them.

    /// <summary>The message id: the <c>Idempotency-Key</c> a destination sees on every attempt and every resubmit.</summary>
    public required string MessageId { get; init; }
    public required string Destination { get; init; }
    /// <summary>It has an ordering key (and is not a notification, which never waits for one): it takes turns and releases the next.</summary>
    public bool Ordered { get; init; }
    /// <summary>It names a notify destination (and is not a notification itself, which never notifies in turn).</summary>
    public bool Notifies { get; init; }

    // What the lifecycle decides.

    public DeliveryStatus Status { get; init; }
    /// <summary>Attempts made since acceptance or the last resubmit.</summary>
    public int Attempts { get; init; }
    /// <summary>When the next attempt is planned, as the API shows it; null when none is.</summary>
    public DateTimeOffset? NextAttemptAt { get; init; }
    /// <summary>
    /// When a retry scheduler must wake the delivery: its next attempt, the backstop of an attempt in progress, or an
    /// outbox not yet handed over. Null: nothing is left to do (or it waits for its ordering key's release).
    /// </summary>
    public DateTimeOffset? DueAt { get; init; }
    public string? LastError { get; init; }
    public int? ResponseStatusCode { get; init; }
    public IReadOnlyDictionary<string, string>? ResponseHeaders { get; init; }
    public string? ResponseBody { get; init; }
    public DateTimeOffset? CompletedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    /// <summary>Went InRetry since acceptance or the last resubmit: its end is notified.</summary>
    public bool WasInRetry { get; init; }
    /// <summary>Resubmits so far; each generation's end is notified once.</summary>
    public int Generation { get; init; }
    /// <summary>Outbox flag: the final notification is owed and not yet handed over.</summary>
    public bool NotificationPending { get; init; }
    /// <summary>Outbox flag: the release of the next message of the ordering key is owed.</summary>
    public bool OrderingReleasePending { get; init; }
    /// <summary>The contract override; null: the destination's own. An operator may change it on resubmit.</summary>
    public string? Contract { get; init; }

    /// <summary>The number the next attempt carries (<c>X-Relay-Attempt</c>): 1 for the first, also after a resubmit.</summary>
    public int NextAttempt => Attempts + 1;

    /// <summary>Something is owed and not yet handed over (the final notification, the ordering release).</summary>
    public bool OwesHandOver => NotificationPending || OrderingReleasePending;

    /// <summary>No payload, headers or response: records print themselves, and what they carry must not reach logs.</summary>
    public override string ToString() => $"DeliveryProgress {{ {Destination}/{MessageId} {Status} after {Attempts} attempts, due {DueAt:o} }}";
}
