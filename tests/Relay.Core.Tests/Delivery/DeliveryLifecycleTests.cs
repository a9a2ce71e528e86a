using Relay.Core.Delivery;
using Relay.Core.Storage;
using Effects = Relay.Core.Delivery.DeliveryEffects;
using Event = Relay.Core.Delivery.DeliveryEvent;

namespace Relay.Core.Tests.Delivery;

/// <summary>
/// The lifecycle's promises (docs/API.md, "Statuses of a delivery", "The final notification"), as properties over random
/// walks: a delivery accepted, then woken, attempted, resubmitted, discarded, released, parked in any order, with the
/// effects carried out as the grain carries them out.
/// </summary>
public class DeliveryLifecycleTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 7, 2, 0, 0, TimeSpan.Zero);

    /// <summary>One step of the world; a record so that FsCheck prints a failing walk readably.</summary>
    public abstract record Step
    {
        public sealed record Wake(bool Held, bool WhenDue) : Step;
        public sealed record Resubmit(bool Named, bool AttemptNow, bool Held, bool Edit) : Step;
        public sealed record Discard : Step;
        public sealed record Release : Step;
        /// <summary>The database lets <paramref name="Skip"/> writes through, then refuses the next one for its data.</summary>
        public sealed record RefuseWrite(int Skip) : Step;
        public sealed record Wait(int Seconds) : Step;
    }

    /// <summary>A walk: a delivery, its contract and destination, the steps, and the answers its attempts and its ordering key get.</summary>
    public sealed record Walk(int MaxAttempts, int DelaySeconds, double Jitter, bool Ordered, bool Notifies, NotifyOn NotifyOn,
        bool AttemptNow, bool AcceptHeld, Step[] Steps, (AttemptOutcome Outcome, int? RetryAfterSeconds)[] Answers, bool[] Turns, double Random01)
    {
        public override string ToString() =>
            $"Walk {{ MaxAttempts = {MaxAttempts}, Delay = {DelaySeconds} s, Ordered = {Ordered}, Notifies = {Notifies}, {NotifyOn}, "
            + $"AttemptNow = {AttemptNow}, Held = {AcceptHeld}, Steps = [{string.Join(", ", Steps.Select(s => s.ToString()))}], "
            + $"Answers = [{string.Join(", ", Answers)}], Turns = [{string.Join(", ", Turns)}] }}";

        public DeliveryRules Rules => new(
            new DestinationOptions { Address = "http://127.0.0.1:1/x", NotifyOn = NotifyOn, SyncTimeout = TimeSpan.FromSeconds(2) },
            "c", new RetryContractOptions { MaxAttempts = MaxAttempts, Delay = TimeSpan.FromSeconds(DelaySeconds), Jitter = Jitter },
            TimeSpan.FromSeconds(10));
    }

    /// <summary>One transition seen during a walk.</summary>
    private sealed record Seen(DeliveryProgress Before, Event Event, DeliveryDecision Decision);

    /// <summary>What a walk did: every transition, and the notifications handed over per generation.</summary>
    private sealed class Run
    {
        public List<Seen> Transitions { get; } = [];
        public Dictionary<int, int> NotificationsHandedOver { get; } = [];
        public DeliveryProgress State { get; set; } = null!;
    }

    private static readonly Gen<Step> Steps = Gen.OneOf(
        from held in Gen.Elements(false, false, false, true)
        from whenDue in Gen.Elements(true, true, false)
        select (Step)new Step.Wake(held, whenDue),
        from named in Gen.Elements(true, false)
        from attemptNow in Gen.Elements(true, false)
        from held in Gen.Elements(false, false, true)
        from edit in Gen.Elements(true, false)
        select (Step)new Step.Resubmit(named, attemptNow, held, edit),
        Gen.Constant((Step)new Step.Discard()),
        Gen.Constant((Step)new Step.Release()),
        Gen.Choose(0, 2).Select(skip => (Step)new Step.RefuseWrite(skip)),
        Gen.Elements((Step)new Step.Wait(1), new Step.Wait(3600)));

    private static readonly Gen<(AttemptOutcome, int?)> Answers =
        from outcome in Gen.Elements(AttemptOutcome.RetryableFailure, AttemptOutcome.RetryableFailure, AttemptOutcome.Success, AttemptOutcome.NonRetryableFailure)
        from retryAfter in Gen.Elements<int?>(null, null, 0, 30)
        select (outcome, retryAfter);

    private static readonly Gen<Walk> Walks =
        from maxAttempts in Gen.Choose(1, 8)
        from delay in Gen.Elements(0, 1, 5, 3600)
        from jitter in Gen.Elements(0.0, 0.2, 1.0)
        from ordered in Gen.Elements(true, false)
        from notifies in Gen.Elements(true, true, false)
        from notifyOn in Gen.Elements(NotifyOn.AfterRetry, NotifyOn.Always)
        from attemptNow in Gen.Elements(true, true, false)
        from acceptHeld in Gen.Elements(false, false, false, true)
        from steps in Steps.ListOf()
        from answers in Answers.NonEmptyListOf()
        from turns in Gen.Elements(true, true, false).NonEmptyListOf()
        from random in Gen.Choose(0, 999).Select(i => i / 1000.0)
        select new Walk(maxAttempts, delay, jitter, ordered, notifies, notifyOn, attemptNow, acceptHeld,
            steps.Take(40).ToArray(), answers.ToArray(), turns.ToArray(), random);

    /// <summary>Walks a delivery through the steps, carrying out each decision's effects the way the grain does.</summary>
    private static Run Play(Walk walk)
    {
        var run = new Run();
        var now = Start;
        int? refuseAfter = null;
        int answer = 0, turn = 0;
        run.State = new DeliveryProgress
        {
            MessageId = "order-1", Destination = "billing", Ordered = walk.Ordered, Notifies = walk.Notifies,
        };

        void Decide(Event e)
        {
            var before = run.State;
            var decision = DeliveryLifecycle.Decide(before, e, walk.Rules, now, walk.Random01);
            run.Transitions.Add(new Seen(before, e, decision));
            if (decision.Refusal is not null)
            {
                Assert.Equal(before, decision.State);
                return;
            }

            if (decision.Has(Effects.HandOverNotificationFirst))
            {
                HandedOverNotification(before);
            }

            run.State = decision.State;
            // Any write but the parking's own (refused too, it is an outage: the grain deactivates), the write that
            // records a success or clears a hand-over included.
            if (decision.Has(Effects.Write) && e is not Event.WriteRefused && refuseAfter is { } skip && refuseAfter-- == 0)
            {
                // The grain parks from the state it could not store, and carries out the parking's effects instead.
                refuseAfter = null;
                var attempt = e is Event.AttemptFinished f ? new RefusedAttempt(run.State.Attempts, f.Result.Outcome, f.Result.StatusCode) : null;
                Decide(new Event.WriteRefused("23514: refused", attempt));
                return;
            }

            if (decision.Has(Effects.HandOver))
            {
                if (run.State.NotificationPending)
                {
                    HandedOverNotification(run.State);
                }

                Decide(new Event.HandedOver());
            }

            if (decision.Has(Effects.TakeTurn) && !walk.Turns[turn++ % walk.Turns.Length])
            {
                Decide(new Event.TurnRefused());
                return;
            }

            if (decision.Has(Effects.TakeTurn) && e is Event.Woken w)
            {
                Decide(w with { TurnTaken = true });
            }

            if (decision.Has(Effects.Attempt))
            {
                var (outcome, retryAfter) = walk.Answers[answer++ % walk.Answers.Length];
                Decide(new Event.AttemptFinished(new AttemptResult
                {
                    Outcome = outcome,
                    StatusCode = outcome == AttemptOutcome.Success ? 200 : 503,
                    Error = outcome == AttemptOutcome.Success ? null : "503 Service Unavailable",
                    RetryAfter = retryAfter is { } s ? TimeSpan.FromSeconds(s) : null,
                }));
            }

            if (decision.Has(Effects.WakeAgain))
            {
                Decide(new Event.Woken(Held: false));
            }
        }

        void HandedOverNotification(DeliveryProgress owing) =>
            run.NotificationsHandedOver[owing.Generation] = run.NotificationsHandedOver.GetValueOrDefault(owing.Generation) + 1;

        Decide(new Event.Accepted(walk.AttemptNow, walk.AcceptHeld));
        foreach (var step in walk.Steps)
        {
            switch (step)
            {
                case Step.Wake wake:
                    if (wake.WhenDue && run.State.DueAt is { } due && due > now)
                    {
                        now = due;
                    }

                    Decide(new Event.Woken(wake.Held));
                    break;
                case Step.Resubmit r:
                    Decide(new Event.Resubmitted("ops", r.Named, r.Edit ? 12 : null, null, r.AttemptNow, r.Held));
                    break;
                case Step.Discard:
                    Decide(new Event.Discarded("ops"));
                    break;
                case Step.Release:
                    Decide(new Event.Released());
                    break;
                case Step.RefuseWrite refuse:
                    refuseAfter = refuse.Skip;
                    break;
                case Step.Wait wait:
                    now += TimeSpan.FromSeconds(wait.Seconds);
                    break;
            }
        }

        // The scheduler comes back until nothing is owed: what a final status owes is handed over in the end.
        for (var i = 0; i < 3 && run.State.OwesHandOver; i++)
        {
            now = run.State.DueAt ?? now;
            Decide(new Event.Woken(Held: false));
        }

        return run;
    }

    [Property(MaxTest = 1000)]
    public Property A_delivered_delivery_is_never_attempted_again() =>
        Prop.ForAll(Walks.ToArbitrary(), walk => Play(walk).Transitions
            .Where(t => t.Before.Status == DeliveryStatus.Delivered)
            .All(t => !t.Decision.Has(Effects.Attempt)
                      && t.Decision.State.Status == DeliveryStatus.Delivered
                      && t.Decision.State.Attempts == t.Before.Attempts));

    [Property(MaxTest = 1000)]
    public Property A_delivery_that_reached_Delivered_is_never_DeadLettered_and_owes_at_most_one_notification() =>
        Prop.ForAll(Walks.ToArbitrary(), walk =>
        {
            var run = Play(walk);
            // Reached as the lifecycle decided it, stored or not: its destination has the message either way.
            var reached = run.Transitions.FindIndex(t => t.Decision.State.Status == DeliveryStatus.Delivered);
            if (reached < 0)
            {
                return true.Label("not delivered");
            }

            var since = run.Transitions.Skip(reached).ToList();
            var generation = since[0].Decision.State.Generation;
            var notDelivered = since.FirstOrDefault(t => t.Decision.State.Status != DeliveryStatus.Delivered);
            var owed = since.Count(t => t.Decision.State.NotificationPending && !t.Before.NotificationPending);
            var handedOver = run.NotificationsHandedOver.GetValueOrDefault(generation);
            return (notDelivered is null).Label($"{notDelivered?.Event} made it {notDelivered?.Decision.State.Status}")
                .And((owed <= 1).Label($"owed {owed} times"))
                .And((handedOver <= 1).Label($"handed over {handedOver} times"));
        });

    [Property(MaxTest = 1000)]
    public Property Attempts_never_exceed_MaxAttempts_and_each_finished_attempt_counts_one() =>
        Prop.ForAll(Walks.ToArbitrary(), walk => Play(walk).Transitions.All(t =>
            t.Decision.State.Attempts <= walk.MaxAttempts
            && t.Decision.State.Attempts - t.Before.Attempts == t.Event switch
            {
                Event.AttemptFinished => 1,
                Event.Resubmitted when t.Decision.Refusal is null => -t.Before.Attempts,
                _ => 0,
            }));

    [Property(MaxTest = 1000)]
    public Property A_dead_lettered_head_holds_its_ordering_key() =>
        Prop.ForAll(Walks.ToArbitrary(), walk => Play(walk).Transitions.All(t =>
        {
            var after = t.Decision.State;
            // Dead-lettered (by its attempts or parked): the next of its key is not released...
            if (after.Status == DeliveryStatus.DeadLettered && after.OrderingReleasePending)
            {
                return false;
            }

            // ...until it is delivered or discarded, which releases it (when it has a key).
            var ended = after.Status is DeliveryStatus.Delivered or DeliveryStatus.Discarded && t.Before.Status != after.Status;
            return !ended || after.OrderingReleasePending == walk.Ordered;
        }));

    [Property(MaxTest = 1000)]
    public Property A_resubmit_keeps_the_Idempotency_Key_and_counts_afresh() =>
        Prop.ForAll(Walks.ToArbitrary(), walk =>
        {
            var run = Play(walk);
            var resubmits = run.Transitions.Where(t => t.Event is Event.Resubmitted && t.Decision.Refusal is null).ToList();
            var accepted = resubmits.All(t =>
                t.Decision.State.MessageId == t.Before.MessageId
                && t.Decision.State.Attempts == 0
                && t.Decision.State.NextAttempt == 1
                && t.Decision.State.Generation == t.Before.Generation + 1
                && t.Decision.State.Status == DeliveryStatus.Pending
                && !t.Decision.State.WasInRetry
                && t.Decision.Audit?.Kind == AuditKind.Resubmitted);
            var refused = run.Transitions.Where(t => t.Event is Event.Resubmitted && t.Before.Status is DeliveryStatus.Delivered or DeliveryStatus.Discarded)
                .All(t => t.Decision.Refusal is not null);
            // The first attempt after a resubmit is attempt 1 of the new count.
            var first = run.Transitions.Select((t, i) => (t, i))
                .Where(x => x.t.Event is Event.AttemptFinished && x.t.Before.Attempts == 0 && x.t.Before.Generation > 0)
                .All(x => x.t.Decision.State.Attempts == 1);
            return (accepted && refused && first).Label($"{resubmits.Count} resubmits");
        });

    [Property(MaxTest = 1000)]
    public Property Every_final_status_of_a_retried_delivery_owes_exactly_one_notification() =>
        Prop.ForAll(Walks.ToArbitrary(), walk =>
        {
            var run = Play(walk);
            // Per generation: the final statuses reached (Delivered or DeadLettered) and whether it was in retry then.
            var ended = run.Transitions
                .Where(t => t.Decision.Refusal is null
                            && t.Decision.State.Status is DeliveryStatus.Delivered or DeliveryStatus.DeadLettered
                            && t.Before.Status is DeliveryStatus.Pending or DeliveryStatus.InRetry)
                .GroupBy(t => t.Decision.State.Generation)
                .ToDictionary(g => g.Key, g => g.Last().Decision.State.WasInRetry || walk.NotifyOn == NotifyOn.Always);
            var owed = run.Transitions
                .Where(t => t.Decision.State.NotificationPending && !t.Before.NotificationPending)
                .GroupBy(t => t.Decision.State.Generation)
                .ToDictionary(g => g.Key, g => g.Count());
            foreach (var (generation, retried) in ended)
            {
                var expected = walk.Notifies && retried ? 1 : 0;
                if (owed.GetValueOrDefault(generation) != expected || run.NotificationsHandedOver.GetValueOrDefault(generation) != expected)
                {
                    return false.Label($"generation {generation}: owed {owed.GetValueOrDefault(generation)}, handed over {run.NotificationsHandedOver.GetValueOrDefault(generation)}, expected {expected}");
                }
            }

            // Nothing owed or handed over for a generation that did not end.
            return owed.Keys.Concat(run.NotificationsHandedOver.Keys).All(ended.ContainsKey).Label("owed without an end");
        });

    [Property(MaxTest = 1000)]
    public Property Nothing_is_left_due_once_a_final_status_has_handed_over_what_it_owes() =>
        Prop.ForAll(Walks.ToArbitrary(), walk =>
        {
            var end = Play(walk).State;
            return !StatusRollup.IsFinal(end.Status) || (end.DueAt is null && !end.OwesHandOver);
        });

    [Fact]
    public void A_retryable_failure_schedules_the_next_attempt_by_the_contract_and_the_write_carries_it()
    {
        var rules = Rules(maxAttempts: 3, delay: TimeSpan.FromSeconds(5));
        var pending = Pending();

        var decision = DeliveryLifecycle.Decide(pending, new Event.AttemptFinished(AttemptResult.Retryable("503 Service Unavailable", 503)), rules, Start, 0.5);

        Assert.Equal(DeliveryStatus.InRetry, decision.State.Status);
        Assert.Equal(Start.AddSeconds(5), decision.ScheduleAt);
        Assert.Equal(Start.AddSeconds(5), decision.State.NextAttemptAt);
        Assert.Equal(Effects.Write, decision.Effects);
        Assert.Equal("503 Service Unavailable", decision.State.LastError);
    }

    [Fact]
    public void The_first_attempt_within_the_request_is_backed_by_SyncTimeout_plus_RecoveryGrace()
    {
        var rules = Rules(maxAttempts: 3, delay: TimeSpan.FromSeconds(5));

        var accepted = DeliveryLifecycle.Decide(Pending(), new Event.Accepted(AttemptNow: true, Held: false), rules, Start, 0);
        var held = DeliveryLifecycle.Decide(Pending(), new Event.Accepted(AttemptNow: true, Held: true), rules, Start, 0);

        Assert.Equal(Start + TimeSpan.FromSeconds(2) + TimeSpan.FromSeconds(10), accepted.ScheduleAt);
        Assert.True(accepted.Has(Effects.Write | Effects.Attempt));
        Assert.Equal(Start, held.ScheduleAt);
        Assert.False(held.Has(Effects.Attempt));
    }

    [Fact]
    public void A_notification_accepted_for_a_destination_no_longer_configured_is_stored_parked()
    {
        var rules = Rules(maxAttempts: 3, delay: TimeSpan.FromSeconds(5)) with { Destination = null };

        var decision = DeliveryLifecycle.Decide(Pending(), new Event.Accepted(AttemptNow: false, Held: false), rules, Start, 0);

        Assert.Equal(DeliveryStatus.DeadLettered, decision.State.Status);
        Assert.Null(decision.ScheduleAt);
        Assert.Equal(Effects.Write, decision.Effects);
        Assert.Equal(AuditKind.Parked, decision.Audit?.Kind);
        Assert.StartsWith("Destination 'billing' is no longer configured.", decision.State.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public void A_refused_write_parks_the_delivery_naming_the_attempt_and_keeps_no_response_body()
    {
        var rules = Rules(maxAttempts: 3, delay: TimeSpan.FromSeconds(5));
        var inRetry = Pending() with
        {
            Status = DeliveryStatus.InRetry, Attempts = 2, WasInRetry = true, Notifies = true, ResponseStatusCode = 503,
            ResponseBody = "bad\0body", DueAt = Start,
        };

        var decision = DeliveryLifecycle.Decide(inRetry, new Event.WriteRefused("22021: invalid byte sequence", new RefusedAttempt(2, AttemptOutcome.RetryableFailure, 503)), rules, Start, 0);

        Assert.Equal(DeliveryStatus.DeadLettered, decision.State.Status);
        Assert.Equal("The outcome of attempt 2 (RetryableFailure 503) could not be stored: the database refused it (22021: invalid byte sequence). Parked; resubmit it once the cause is mended.", decision.State.LastError);
        Assert.Null(decision.State.ResponseBody);
        Assert.True(decision.State.NotificationPending);
        Assert.Equal(Start + TimeSpan.FromSeconds(10), decision.ScheduleAt);
        Assert.Equal(2, decision.Audit?.Attempt);
    }

    [Fact]
    public void A_refused_outcome_of_a_success_stays_Delivered_says_why_and_owes_its_hand_over_once()
    {
        var rules = Rules(maxAttempts: 3, delay: TimeSpan.FromSeconds(5));
        var inRetry = Pending() with { Status = DeliveryStatus.InRetry, Attempts = 1, WasInRetry = true, Notifies = true, Ordered = true, DueAt = Start };
        var delivered = DeliveryLifecycle.Decide(inRetry, new Event.AttemptFinished(new AttemptResult
        {
            Outcome = AttemptOutcome.Success, StatusCode = 200, Body = "ok\0",
        }), rules, Start, 0).State;

        var decision = DeliveryLifecycle.Decide(delivered, new Event.WriteRefused("22021: invalid byte sequence", new RefusedAttempt(2, AttemptOutcome.Success, 200)), rules, Start, 0);

        Assert.Equal(DeliveryStatus.Delivered, decision.State.Status);
        Assert.Equal("The outcome of attempt 2 (Success 200) could not be stored: the database refused it (22021: invalid byte sequence). Delivered; stored without its response.", decision.State.LastError);
        Assert.Null(decision.State.ResponseBody);
        Assert.True(decision.State.NotificationPending);
        Assert.True(decision.State.OrderingReleasePending);
        Assert.Equal(Effects.Write | Effects.HandOver, decision.Effects);
        Assert.Equal(AuditKind.Parked, decision.Audit?.Kind);
        Assert.Equal(2, decision.Audit?.Attempt);
        Assert.NotNull(DeliveryLifecycle.Decide(decision.State, new Event.Resubmitted("ops", true, null, null, false, false), rules, Start, 0).Refusal);
    }

    [Fact]
    public void A_refused_write_clearing_the_hand_over_of_a_delivered_delivery_leaves_it_Delivered_owing_nothing_again()
    {
        var rules = Rules(maxAttempts: 3, delay: TimeSpan.FromSeconds(5));
        var owing = Pending() with
        {
            Status = DeliveryStatus.Delivered, Attempts = 2, WasInRetry = true, Notifies = true, NotificationPending = true, DueAt = Start,
        };
        var handedOver = DeliveryLifecycle.Decide(owing, new Event.HandedOver(), rules, Start, 0).State;

        var decision = DeliveryLifecycle.Decide(handedOver, new Event.WriteRefused("23514: refused", null), rules, Start, 0);

        Assert.Equal(DeliveryStatus.Delivered, decision.State.Status);
        Assert.False(decision.State.OwesHandOver);
        Assert.Null(decision.ScheduleAt);
        Assert.Equal(Effects.Write, decision.Effects);
        Assert.StartsWith("The delivery's state (Delivered) could not be stored: the database refused it (23514: refused).", decision.State.LastError, StringComparison.Ordinal);
        Assert.Equal(AuditKind.Parked, decision.Audit?.Kind);
    }

    [Fact]
    public void A_refused_discard_stays_Discarded_and_releases_its_ordering_key()
    {
        var rules = Rules(maxAttempts: 3, delay: TimeSpan.FromSeconds(5));
        var deadLettered = Pending() with { Status = DeliveryStatus.DeadLettered, Attempts = 3, Ordered = true, ResponseBody = "gone" };
        var discarded = DeliveryLifecycle.Decide(deadLettered, new Event.Discarded("ops"), rules, Start, 0).State;

        var decision = DeliveryLifecycle.Decide(discarded, new Event.WriteRefused("23514: refused", null), rules, Start, 0);

        Assert.Equal(DeliveryStatus.Discarded, decision.State.Status);
        Assert.True(decision.State.OrderingReleasePending);
        Assert.Null(decision.State.ResponseBody);
        Assert.Equal(Effects.Write | Effects.HandOver, decision.Effects);
        Assert.StartsWith("The delivery's state (Discarded) could not be stored", decision.State.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public void A_wake_a_little_early_is_taken_as_due_and_a_held_destination_is_not_attempted()
    {
        var rules = Rules(maxAttempts: 3, delay: TimeSpan.FromSeconds(5));
        var inRetry = Pending() with { Status = DeliveryStatus.InRetry, Attempts = 1, DueAt = Start.AddMilliseconds(400) };

        Assert.Equal(Effects.Attempt, DeliveryLifecycle.Decide(inRetry, new Event.Woken(Held: false), rules, Start, 0).Effects);
        Assert.Equal(Effects.None, DeliveryLifecycle.Decide(inRetry with { DueAt = Start.AddSeconds(1) }, new Event.Woken(Held: false), rules, Start, 0).Effects);
        Assert.Equal(Effects.None, DeliveryLifecycle.Decide(inRetry, new Event.Woken(Held: true), rules, Start, 0).Effects);
    }

    private static DeliveryProgress Pending() => new() { MessageId = "order-1", Destination = "billing", Status = DeliveryStatus.Pending };

    private static DeliveryRules Rules(int maxAttempts, TimeSpan delay) => new(
        new DestinationOptions { Address = "http://127.0.0.1:1/x", SyncTimeout = TimeSpan.FromSeconds(2) },
        "c", new RetryContractOptions { MaxAttempts = maxAttempts, Delay = delay }, TimeSpan.FromSeconds(10));
}
