using Relay.Contracts;
using Relay.Core.Messages;
using Relay.Core.Options;
using Relay.Core.Retry;
using Relay.Core.Storage;

namespace Relay.Core.Delivery;

/// <summary>
/// Every transition of a delivery, as a pure function of (state, event, rules, now, random): what its status becomes,
/// when it is due again, what it owes, and what the grain must carry out. No I/O, no clock, no Orleans: the grain
/// (Relay.Grains/Delivery/DeliveryGrain) loads, calls <see cref="Decide"/>, writes, and carries out the effects.
/// </summary>
/// <remarks>
/// Where a retry gets scheduled: <see cref="AttemptFinished"/> (with <see cref="RetrySchedule"/>'s delay). Every due time
/// of a delivery comes from <see cref="Due"/>.
/// </remarks>
public static class DeliveryLifecycle
{
    /// <summary>A wake this early is taken as due: the scheduler and the grain read the same clock, but not at the same instant.</summary>
    public static readonly TimeSpan DueTolerance = TimeSpan.FromMilliseconds(500);

    /// <param name="state">The delivery as stored (or, for <see cref="DeliveryEvent.Accepted"/>, as the envelope gives it).</param>
    /// <param name="event">What happened.</param>
    /// <param name="rules">Its destination and contract as configured now.</param>
    /// <param name="now">The current time, to the millisecond.</param>
    /// <param name="random01">A uniform random number in [0, 1), for the retry delay's jitter.</param>
    public static DeliveryDecision Decide(DeliveryProgress state, DeliveryEvent @event, DeliveryRules rules, DateTimeOffset now, double random01)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(@event);
        return @event switch
        {
            DeliveryEvent.Accepted e => Accept(state, e, rules, now),
            DeliveryEvent.AttemptFinished e => AttemptFinished(state, e.Result, rules, now, random01),
            DeliveryEvent.AttemptPostponed => new(state with { DueAt = Due(DueReason.Now, now, rules), UpdatedAt = now }, DeliveryEffects.Write),
            DeliveryEvent.TurnRefused => new(state with { DueAt = null, NextAttemptAt = null, UpdatedAt = now }, DeliveryEffects.Write),
            DeliveryEvent.Released => Release(state, rules, now),
            DeliveryEvent.Woken e => Wake(state, e, rules, now),
            DeliveryEvent.Resubmitted e => Resubmit(state, e, rules, now),
            DeliveryEvent.Discarded e => Discard(state, e, rules, now),
            DeliveryEvent.Acknowledged e => Acknowledge(state, e, rules, now),
            DeliveryEvent.HandedOver => HandedOver(state, now),
            DeliveryEvent.WriteRefused e => WriteRefused(state, e, rules, now),
            _ => throw new ArgumentOutOfRangeException(nameof(@event), @event, "An event the lifecycle does not know."),
        };
    }

    /// <summary>Whether an attempt may be made: only a delivery not yet at a final status is ever attempted.</summary>
    public static bool MayAttempt(DeliveryProgress state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return state.Status is DeliveryStatus.Pending or DeliveryStatus.InRetry or DeliveryStatus.AwaitingAcknowledgment;
    }

    /// <summary>The reasons a delivery is due, and the one formula of each due time.</summary>
    private enum DueReason
    {
        /// <summary>Due at once: the scheduler takes it (no slot for the first attempt, a release, no attempt within the call).</summary>
        Now,
        /// <summary>An attempt is being made within the call: if the silo dies in it, a scheduler attempts again after this.</summary>
        AttemptBackstop,
        /// <summary>A final status owes a hand-over: if the silo dies before it, a scheduler hands it over after this.</summary>
        Outbox,
    }

    private static DateTimeOffset Due(DueReason reason, DateTimeOffset now, DeliveryRules rules) => reason switch
    {
        DueReason.AttemptBackstop => now + rules.Destination!.SyncTimeout + rules.RecoveryGrace,
        DueReason.Outbox => now + rules.RecoveryGrace,
        _ => now,
    };

    private static DeliveryDecision Accept(DeliveryProgress state, DeliveryEvent.Accepted e, DeliveryRules rules, DateTimeOffset now)
    {
        // Paused, or its circuit open: stored and answered Pending at once; the scheduler sends it when released.
        var attemptNow = e.AttemptNow && rules.Destination is not null && !e.Held;
        var accepted = state with
        {
            Status = DeliveryStatus.Pending,
            NextAttemptAt = now,
            DueAt = Due(attemptNow ? DueReason.AttemptBackstop : DueReason.Now, now, rules),
            UpdatedAt = now,
        };
        if (rules.Destination is null)
        {
            // Only a final notification can be accepted for a destination no longer configured (senders name
            // configured ones): stored parked, to be resubmitted once the destination is back.
            return Park(accepted, NotConfigured(state.Destination), attempt: null, keepResponse: true, rules, now);
        }

        return new(accepted, DeliveryEffects.Write
            | (state.Ordered ? DeliveryEffects.TakeTurn : DeliveryEffects.None)
            | (attemptNow ? DeliveryEffects.Attempt : DeliveryEffects.None));
    }

    /// <summary>
    /// The outcome of an attempt: Delivered, InRetry with its next attempt scheduled, or DeadLettered (retries
    /// exhausted, or a failure no retry mends). A final status owes its notification and, when delivered, the release
    /// of its ordering key: a dead-lettered head holds the rest of its key back.
    /// </summary>
    private static DeliveryDecision AttemptFinished(DeliveryProgress state, AttemptResult result, DeliveryRules rules, DateTimeOffset now, double random01)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (!MayAttempt(state))
        {
            // Not attempted (the grain attempts only what may be): nothing to record.
            return new(state, DeliveryEffects.None);
        }

        var attempt = state.NextAttempt;
        switch (result.Outcome)
        {
            case AttemptOutcome.Success when result.AwaitsAcknowledgment:
                // Taken; the acknowledgment comes on a request of its own (Acknowledged). Without it by the time the next
                // attempt would go after a failure, that attempt goes (Wake), with the same ebXML MessageId; after the
                // last attempt the same wait is its deadline.
                var wait = RetrySchedule.NextDelay(attempt, rules.Contract, random01) ?? RetrySchedule.BaseDelay(attempt, rules.Contract);
                return new(state with
                {
                    Attempts = attempt,
                    UpdatedAt = now,
                    ResponseStatusCode = result.StatusCode,
                    ResponseHeaders = result.Headers,
                    ResponseBody = result.Body,
                    Status = DeliveryStatus.AwaitingAcknowledgment,
                    LastError = null,
                    NextAttemptAt = now + wait,
                    DueAt = now + wait,
                }, DeliveryEffects.Write);
            case AttemptOutcome.RetryableFailure when RetrySchedule.NextDelay(attempt, rules.Contract, random01, result.RetryAfter) is { } delay:
                return new(state with
                {
                    Attempts = attempt,
                    UpdatedAt = now,
                    ResponseStatusCode = result.StatusCode,
                    ResponseHeaders = result.Headers,
                    ResponseBody = result.Body,
                    Status = DeliveryStatus.InRetry,
                    LastError = result.Error,
                    WasInRetry = true,
                    NextAttemptAt = now + delay,
                    DueAt = now + delay,
                }, DeliveryEffects.Write);
            default:
                // Delivered, or dead-lettered (retries exhausted, or a failure no retry mends): one new state, as the
                // hot path of every message ends here.
                var delivered = result.Outcome == AttemptOutcome.Success;
                var ending = Ending(state, rules, now, releaseOrderingKey: delivered, rules.Destination?.NotifyOn);
                return Completed(state with
                {
                    Attempts = attempt,
                    UpdatedAt = now,
                    ResponseStatusCode = result.StatusCode,
                    ResponseHeaders = result.Headers,
                    ResponseBody = result.Body,
                    Status = delivered ? DeliveryStatus.Delivered : DeliveryStatus.DeadLettered,
                    LastError = delivered ? null : result.Error,
                    CompletedAt = now,
                    NextAttemptAt = null,
                    NotificationPending = ending.Notify,
                    OrderingReleasePending = ending.Release,
                    DueAt = ending.DueAt,
                });
        }
    }

    /// <summary>A final status: nothing more to attempt; the notification owed, the ordering key released (or not), and due only for what is owed.</summary>
    private static DeliveryDecision Complete(DeliveryProgress state, DeliveryRules rules, DateTimeOffset now, bool releaseOrderingKey, NotifyOn? notifyOn)
    {
        var ending = Ending(state, rules, now, releaseOrderingKey, notifyOn);
        return Completed(state with
        {
            CompletedAt = now,
            NextAttemptAt = null,
            NotificationPending = ending.Notify,
            OrderingReleasePending = ending.Release,
            DueAt = ending.DueAt,
        });
    }

    /// <summary>What a final status owes (read from facts a final attempt does not change), and when it is due for it.</summary>
    private static (bool Notify, bool Release, DateTimeOffset? DueAt) Ending(
        DeliveryProgress state, DeliveryRules rules, DateTimeOffset now, bool releaseOrderingKey, NotifyOn? notifyOn)
    {
        var notify = OwesNotification(state, notifyOn);
        var release = releaseOrderingKey && state.Ordered;
        return (notify, release, notify || release ? Due(DueReason.Outbox, now, rules) : null);
    }

    private static DeliveryDecision Completed(DeliveryProgress completed) =>
        new(completed, DeliveryEffects.Write | DeliveryEffects.Completed | (completed.OwesHandOver ? DeliveryEffects.HandOver : DeliveryEffects.None));

    /// <summary>A final status owes a notification when it ends a delivery that was in retry, or every time with <c>NotifyOn: Always</c>.</summary>
    private static bool OwesNotification(DeliveryProgress state, NotifyOn? notifyOn) =>
        state.Notifies && (state.WasInRetry || notifyOn == NotifyOn.Always);

    private static DeliveryDecision Release(DeliveryProgress state, DeliveryRules rules, DateTimeOffset now)
    {
        if (state.Status != DeliveryStatus.Pending || state.DueAt is not null)
        {
            // Not waiting for its turn (released twice after a crash, or attempted already): nothing to do.
            return new(state, DeliveryEffects.None);
        }

        var due = Due(DueReason.Now, now, rules);
        return new(state with { DueAt = due, NextAttemptAt = due, UpdatedAt = now }, DeliveryEffects.Write | DeliveryEffects.WakeAgain);
    }

    private static DeliveryDecision Wake(DeliveryProgress state, DeliveryEvent.Woken e, DeliveryRules rules, DateTimeOffset now)
    {
        if (state.OwesHandOver)
        {
            return new(state, DeliveryEffects.HandOver);
        }

        if (state.Status == DeliveryStatus.Pending && state.DueAt is not null && state.Ordered && !e.TurnTaken)
        {
            // Accepted behind an earlier message of its ordering key (the silo died before it was set waiting).
            return new(state, DeliveryEffects.TakeTurn);
        }

        if (!MayAttempt(state) || state.DueAt is not { } due || due > now + DueTolerance || e.Held)
        {
            return new(state, DeliveryEffects.None);
        }

        if (state.Status == DeliveryStatus.AwaitingAcknowledgment)
        {
            // The wait is over without an acknowledgment: after the last attempt the delivery ends; otherwise the next
            // attempt goes (the same MessageId), as after a retryable failure, and its end is notified.
            var wait = due - state.UpdatedAt;
            var error = $"No acknowledgment within {(wait > TimeSpan.Zero ? $"{wait.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)} s" : "the contract's delay")} of attempt {state.Attempts}";
            if (state.Attempts >= rules.Contract.MaxAttempts)
            {
                return Complete(state with { Status = DeliveryStatus.DeadLettered, LastError = error + " (the last one)", UpdatedAt = now },
                    rules, now, releaseOrderingKey: false, notifyOn: rules.Destination?.NotifyOn);
            }

            if (rules.Destination is not null)
            {
                return new(state with { LastError = error, WasInRetry = true, UpdatedAt = now }, DeliveryEffects.Write | DeliveryEffects.Attempt);
            }
        }

        // Its destination removed from the configuration: it could never be attempted, and left due it would come back
        // at every poll. Parked like a dead letter, it waits for the destination to come back.
        return rules.Destination is null
            ? Park(state, NotConfigured(state.Destination), attempt: null, keepResponse: true, rules, now)
            : new(state, DeliveryEffects.Attempt);
    }

    private static DeliveryDecision Resubmit(DeliveryProgress state, DeliveryEvent.Resubmitted e, DeliveryRules rules, DateTimeOffset now)
    {
        var allowed = state.Status == DeliveryStatus.DeadLettered
            || (e.Named && state.Status is DeliveryStatus.InRetry or DeliveryStatus.AwaitingAcknowledgment);
        if (!allowed)
        {
            return Refuse(state, RelayError.Conflict(
                $"The delivery of '{state.MessageId}' to '{state.Destination}' is {state.Status} and cannot be resubmitted.",
                state.Status == DeliveryStatus.Delivered
                    ? "A delivered delivery is never sent again."
                    : "Only a dead-lettered delivery (or an in-retry one named explicitly) can be resubmitted."));
        }

        if (rules.Destination is null)
        {
            return Refuse(state, RelayError.Conflict($"Destination '{state.Destination}' is no longer configured."));
        }

        var edits = new List<string>();
        if (e.EditedPayloadBytes is { } bytes)
        {
            edits.Add($"payload edited ({bytes} bytes)");
        }

        var contract = state.Contract;
        if (e.Contract is not null && e.Contract != state.Contract)
        {
            edits.Add($"contract {rules.ContractName} → {e.Contract}");
            contract = e.Contract;
        }

        var attemptNow = e.AttemptNow && !e.Held;
        var resubmitted = state with
        {
            // The same message id, so the destination sees the same Idempotency-Key; attempts counted afresh, and a new
            // generation, whose end is notified again.
            Generation = state.Generation + 1,
            Status = DeliveryStatus.Pending,
            Attempts = 0,
            WasInRetry = false,
            NotificationPending = false,
            LastError = null,
            ResponseStatusCode = null,
            ResponseHeaders = null,
            ResponseBody = null,
            CompletedAt = null,
            NextAttemptAt = now,
            DueAt = Due(attemptNow ? DueReason.AttemptBackstop : DueReason.Now, now, rules),
            UpdatedAt = now,
            Contract = contract,
        };
        return new(resubmitted, DeliveryEffects.Write
            // The notification of the status ending now is owed and not handed over yet (its hand-over failed, or the
            // silo died before it): handed over before this status is gone, or it would never be sent.
            | (state.NotificationPending ? DeliveryEffects.HandOverNotificationFirst : DeliveryEffects.None)
            | (attemptNow ? DeliveryEffects.Attempt : DeliveryEffects.None))
        {
            Audit = new AuditNote(AuditKind.Resubmitted)
            {
                By = e.By,
                Detail = edits.Count == 0 ? $"resubmitted after {state.Attempts} attempts" : string.Join("; ", edits),
            },
        };
    }

    private static DeliveryDecision Discard(DeliveryProgress state, DeliveryEvent.Discarded e, DeliveryRules rules, DateTimeOffset now)
    {
        if (state.Status == DeliveryStatus.Discarded)
        {
            return new(state, DeliveryEffects.None);
        }

        if (state.Status != DeliveryStatus.DeadLettered)
        {
            return Refuse(state, RelayError.Conflict(
                $"The delivery of '{state.MessageId}' to '{state.Destination}' is {state.Status}; only a dead-lettered delivery can be discarded."));
        }

        // A discarded head releases the next of its ordering key. Its notification was owed when it was dead-lettered.
        var release = state.Ordered;
        var discarded = state with
        {
            Status = DeliveryStatus.Discarded,
            NextAttemptAt = null,
            UpdatedAt = now,
            OrderingReleasePending = release,
            DueAt = release || state.NotificationPending ? Due(DueReason.Outbox, now, rules) : null,
        };
        return new(discarded, DeliveryEffects.Write | DeliveryEffects.Completed | (discarded.OwesHandOver ? DeliveryEffects.HandOver : DeliveryEffects.None))
        {
            Audit = new AuditNote(AuditKind.Discarded) { By = e.By },
        };
    }

    /// <summary>
    /// The destination's later answer: an acknowledgment delivers; an error list dead-letters at once when final, and
    /// puts the delivery in retry at its planned time (or now) when retryable with attempts left. A final delivery stays
    /// as it is (a duplicate, or one after the last deadline).
    /// </summary>
    private static DeliveryDecision Acknowledge(DeliveryProgress state, DeliveryEvent.Acknowledged e, DeliveryRules rules, DateTimeOffset now)
    {
        if (StatusRollup.IsFinal(state.Status))
        {
            return new(state, DeliveryEffects.None);
        }

        var audit = new AuditNote(AuditKind.Acknowledged) { Attempt = state.Attempts, Outcome = e.Outcome, By = "partner", Detail = e.Detail };
        var answered = state with { ResponseBody = e.Body ?? state.ResponseBody, UpdatedAt = now };
        if (e.Outcome == AttemptOutcome.RetryableFailure && state.Attempts < rules.Contract.MaxAttempts && rules.Destination is not null)
        {
            var at = state.NextAttemptAt ?? now;
            return new(answered with { Status = DeliveryStatus.InRetry, LastError = e.Error, WasInRetry = true, NextAttemptAt = at, DueAt = at },
                DeliveryEffects.Write) { Audit = audit };
        }

        var delivered = e.Outcome == AttemptOutcome.Success;
        var ended = answered with { Status = delivered ? DeliveryStatus.Delivered : DeliveryStatus.DeadLettered, LastError = delivered ? null : e.Error };
        return Complete(ended, rules, now, releaseOrderingKey: delivered, notifyOn: rules.Destination?.NotifyOn) with { Audit = audit };
    }

    private static DeliveryDecision HandedOver(DeliveryProgress state, DateTimeOffset now) =>
        new(state with { NotificationPending = false, OrderingReleasePending = false, DueAt = null, UpdatedAt = now }, DeliveryEffects.Write);

    /// <summary>
    /// The database refused to store <paramref name="state"/> (the state a decision made) for its data. A refused write
    /// changes what is stored about a delivery, never what happened to it: a final status stays (Delivered above all:
    /// its destination has the message, and a dead letter would invite a resubmit, a duplicate at the partner), with
    /// what its decision owed and no more (the refused write that cleared a hand-over owes it no second time). A
    /// delivery not at a final status cannot go on: it is parked as a dead letter. Either way the response goes (it may
    /// be what the database refused), the reason is in LastError, and a Parked audit entry replaces the refused ones.
    /// </summary>
    private static DeliveryDecision WriteRefused(DeliveryProgress state, DeliveryEvent.WriteRefused e, DeliveryRules rules, DateTimeOffset now)
    {
        if (!StatusRollup.IsFinal(state.Status))
        {
            return Park(state, Refused(state, e), e.Attempt, keepResponse: false, rules, now);
        }

        var reason = Refused(state, e);
        var kept = state with { LastError = reason, ResponseHeaders = null, ResponseBody = null, UpdatedAt = now };
        return new(kept, DeliveryEffects.Write | (kept.OwesHandOver ? DeliveryEffects.HandOver : DeliveryEffects.None))
        {
            Audit = ParkedNote(state, reason, e.Attempt),
        };
    }

    /// <summary>
    /// Parks a delivery that cannot go on (its state refused by the database before it reached a final status, or its
    /// destination no longer configured): DeadLettered, not due, the reason in LastError, a Parked audit entry; without
    /// its last response unless <paramref name="keepResponse"/>. Resubmittable like any dead letter; it holds its
    /// ordering key back and owes its final notification as a dead letter would.
    /// </summary>
    private static DeliveryDecision Park(DeliveryProgress state, string reason, RefusedAttempt? attempt, bool keepResponse, DeliveryRules rules, DateTimeOffset now)
    {
        var notify = OwesNotification(state, rules.Destination?.NotifyOn);
        var parked = state with
        {
            Status = DeliveryStatus.DeadLettered,
            LastError = reason,
            ResponseHeaders = keepResponse ? state.ResponseHeaders : null,
            ResponseBody = keepResponse ? state.ResponseBody : null,
            NextAttemptAt = null,
            CompletedAt = now,
            UpdatedAt = now,
            OrderingReleasePending = false,
            NotificationPending = notify,
            DueAt = notify ? Due(DueReason.Outbox, now, rules) : null,
        };
        return new(parked, DeliveryEffects.Write | (notify ? DeliveryEffects.HandOver : DeliveryEffects.None))
        {
            Audit = ParkedNote(state, reason, attempt),
        };
    }

    private static AuditNote ParkedNote(DeliveryProgress state, string reason, RefusedAttempt? attempt) => new(AuditKind.Parked)
    {
        Attempt = attempt?.Attempt ?? state.Attempts,
        Outcome = attempt?.Outcome,
        StatusCode = attempt?.StatusCode,
        Detail = reason,
    };

    private static DeliveryDecision Refuse(DeliveryProgress state, RelayError refusal) =>
        new(state, DeliveryEffects.None) { Refusal = refusal };

    private static string NotConfigured(string destination) =>
        $"Destination '{destination}' is no longer configured. Parked; resubmit it once the destination is configured again.";

    private static string Refused(DeliveryProgress state, DeliveryEvent.WriteRefused e)
    {
        var what = e.Attempt is not { } attempt
            ? $"The delivery's state ({state.Status}) could not be stored"
            : $"The outcome of attempt {attempt.Attempt} ({attempt.Outcome}{(attempt.StatusCode is { } code ? $" {code}" : "")}) could not be stored";
        // Its response goes too: it may be what the database refused.
        return state.Status switch
        {
            DeliveryStatus.Delivered => $"{what}: the database refused it ({e.Refusal}). Delivered; stored without its response.",
            DeliveryStatus.Discarded => $"{what}: the database refused it ({e.Refusal}). Discarded; stored without its response.",
            _ => $"{what}: the database refused it ({e.Refusal}). Parked; resubmit it once the cause is mended.",
        };
    }
}
