using Relay.Core.Delivery;
using Relay.Core.Storage;
using Effects = Relay.Core.Delivery.DeliveryEffects;
using Event = Relay.Core.Delivery.DeliveryEvent;

namespace Relay.Core.Tests.Delivery;

/// <summary>
/// The AwaitingAcknowledgment step (an ebXML destination that acknowledges on a request of its own), transition by
/// transition: state + event in, new state + effects out.
/// </summary>
public class AwaitingAcknowledgmentTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 3, 0, 0, TimeSpan.Zero);

    private static DeliveryRules Rules(int maxAttempts = 3) => new(
        new DestinationOptions { Address = "http://127.0.0.1:1/msh", SyncTimeout = TimeSpan.FromSeconds(2) },
        "c", new RetryContractOptions { MaxAttempts = maxAttempts, Delay = TimeSpan.FromSeconds(5) }, TimeSpan.FromSeconds(10));

    private static DeliveryProgress Pending(bool ordered = false, bool notifies = true) => new()
    {
        MessageId = "m-1", Destination = "partner", Status = DeliveryStatus.Pending, Ordered = ordered, Notifies = notifies,
        NextAttemptAt = Now, DueAt = Now, UpdatedAt = Now,
    };

    private static readonly AttemptResult Taken = new() { Outcome = AttemptOutcome.Success, StatusCode = 200, AwaitsAcknowledgment = true };

    private static DeliveryDecision Decide(DeliveryProgress state, Event @event, DateTimeOffset? at = null, int maxAttempts = 3) =>
        DeliveryLifecycle.Decide(state, @event, Rules(maxAttempts), at ?? Now, 0.5);

    /// <summary>The state after <paramref name="attempts"/> attempts, each taken without acknowledgment, the next made when the wait ended.</summary>
    private static DeliveryProgress Awaiting(int attempts = 1, bool ordered = false)
    {
        var state = Decide(Pending(ordered), new Event.AttemptFinished(Taken)).State;
        for (var i = 1; i < attempts; i++)
        {
            var woken = Decide(state, new Event.Woken(Held: false), state.DueAt);
            Assert.True(woken.Has(Effects.Attempt));
            state = Decide(woken.State, new Event.AttemptFinished(Taken), state.DueAt).State;
        }

        return state;
    }

    [Fact]
    public void An_attempt_taken_without_acknowledgment_waits_the_contract_s_delay_durably()
    {
        var decision = Decide(Pending(), new Event.AttemptFinished(Taken));

        Assert.Equal(DeliveryStatus.AwaitingAcknowledgment, decision.State.Status);
        Assert.Equal(1, decision.State.Attempts);
        Assert.Equal(Now + TimeSpan.FromSeconds(5), decision.State.NextAttemptAt);
        Assert.Equal(decision.State.NextAttemptAt, decision.State.DueAt);
        Assert.Null(decision.State.LastError);
        Assert.Equal(Effects.Write, decision.Effects);
        Assert.False(StatusRollup.IsFinal(decision.State.Status));
    }

    [Fact]
    public void Before_the_wait_ends_a_wake_does_nothing()
    {
        Assert.Equal(Effects.None, Decide(Awaiting(), new Event.Woken(Held: false), Now + TimeSpan.FromSeconds(1)).Effects);
    }

    [Fact]
    public void When_the_wait_ends_with_attempts_left_the_next_attempt_goes()
    {
        var decision = Decide(Awaiting(), new Event.Woken(Held: false), Now + TimeSpan.FromSeconds(5));

        Assert.Equal(Effects.Write | Effects.Attempt, decision.Effects);
        Assert.Equal("No acknowledgment within 5 s of attempt 1", decision.State.LastError);
        Assert.True(decision.State.WasInRetry);

        var next = Decide(decision.State, new Event.AttemptFinished(Taken), Now + TimeSpan.FromSeconds(5));
        Assert.Equal((DeliveryStatus.AwaitingAcknowledgment, 2), (next.State.Status, next.State.Attempts));
    }

    [Fact]
    public void When_the_last_attempt_s_wait_ends_the_delivery_is_dead_lettered_and_notified()
    {
        var last = Awaiting(attempts: 3);

        var decision = Decide(last, new Event.Woken(Held: false), last.DueAt!.Value);

        Assert.Equal(DeliveryStatus.DeadLettered, decision.State.Status);
        Assert.EndsWith("of attempt 3 (the last one)", decision.State.LastError, StringComparison.Ordinal);
        Assert.True(decision.Has(Effects.Completed));
        Assert.True(decision.State.NotificationPending);
        Assert.False(decision.State.OrderingReleasePending);
    }

    [Fact]
    public void An_acknowledgment_delivers_and_releases_the_ordering_key()
    {
        var decision = Decide(Awaiting(ordered: true), new Event.Acknowledged(AttemptOutcome.Success, null, "<ack/>", "eb:Acknowledgment of x"));

        Assert.Equal(DeliveryStatus.Delivered, decision.State.Status);
        Assert.True(decision.Has(Effects.Completed));
        Assert.True(decision.State.OrderingReleasePending);
        Assert.Equal("<ack/>", decision.State.ResponseBody);
        Assert.Equal(AuditKind.Acknowledged, decision.Audit!.Kind);
        Assert.Equal("eb:Acknowledgment of x", decision.Audit.Detail);
    }

    [Fact]
    public void A_final_error_list_dead_letters_and_a_DeliveryFailure_retries_at_the_planned_time()
    {
        var awaiting = Awaiting();

        var final = Decide(awaiting, new Event.Acknowledged(AttemptOutcome.NonRetryableFailure, "ebXML error SecurityFailure (Error)", null, "d"));
        Assert.Equal((DeliveryStatus.DeadLettered, "ebXML error SecurityFailure (Error)"), (final.State.Status, final.State.LastError));
        Assert.False(final.State.OrderingReleasePending);

        var retry = Decide(awaiting, new Event.Acknowledged(AttemptOutcome.RetryableFailure, "ebXML error DeliveryFailure (Error)", null, "d"));
        Assert.Equal(DeliveryStatus.InRetry, retry.State.Status);
        Assert.Equal(awaiting.NextAttemptAt, retry.State.DueAt);
        Assert.Equal(Effects.Write, retry.Effects);

        var exhausted = Decide(Awaiting(attempts: 3), new Event.Acknowledged(AttemptOutcome.RetryableFailure, "ebXML error DeliveryFailure (Error)", null, "d"));
        Assert.Equal(DeliveryStatus.DeadLettered, exhausted.State.Status);
    }

    [Fact]
    public void An_acknowledgment_of_a_final_delivery_changes_nothing()
    {
        var delivered = Decide(Awaiting(), new Event.Acknowledged(AttemptOutcome.Success, null, null, "d")).State;

        var again = Decide(delivered, new Event.Acknowledged(AttemptOutcome.NonRetryableFailure, "late error", null, "d"));

        Assert.Equal(Effects.None, again.Effects);
        Assert.Same(delivered, again.State);
        Assert.Null(again.Audit);
    }

    [Fact]
    public void An_awaiting_delivery_named_in_a_resubmit_is_tried_now()
    {
        var decision = Decide(Awaiting(), new Event.Resubmitted("ops", Named: true, null, null, AttemptNow: true, Held: false));

        Assert.Null(decision.Refusal);
        Assert.Equal(DeliveryStatus.Pending, decision.State.Status);
        Assert.True(decision.Has(Effects.Attempt));
    }
}
