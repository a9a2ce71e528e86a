using Microsoft.Extensions.Time.Testing;
using Relay.Contracts;
using Relay.Core.Options;
using Relay.Grains.Destinations;

namespace Relay.Grains.Tests.Destinations;

/// <summary>The circuit breaker of a destination (<see cref="CircuitBreaker"/>), under fake time.</summary>
public sealed class CircuitBreakerTests
{
    private static readonly TimeSpan Break = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 7, 2, 0, 0, TimeSpan.Zero));
    private readonly DestinationOptions _destination = new() { FailureThreshold = 3, BreakDuration = Break, Timeout = TimeSpan.FromSeconds(10) };
    private readonly PersistedHold _hold = new();
    private readonly CircuitBreaker _breaker;

    public CircuitBreakerTests() => _breaker = new CircuitBreaker(name => name == "billing" ? _destination : null, _time);

    private static OutcomeReport Failures(int failures) => new("billing", 0, failures, false);

    private static OutcomeReport AnsweredThenFailed(int failures) => new("billing", 1, failures, true);

    [Fact]
    public void Opens_after_FailureThreshold_consecutive_retryable_failures_reported_by_several_silos()
    {
        Assert.Null(_breaker.Count(Failures(2), _hold));
        Assert.Equal(CircuitState.Closed, _hold.Circuit);

        Assert.Equal(3, _breaker.Count(Failures(1), _hold));

        Assert.Equal(CircuitState.Open, _hold.Circuit);
        Assert.Equal(_time.GetUtcNow() + Break, _hold.OpenUntil);
    }

    [Fact]
    public void An_answer_starts_the_count_again()
    {
        _breaker.Count(Failures(2), _hold);

        // An answer (a success or a 4xx), then one failure: one in a row, not three.
        Assert.Null(_breaker.Count(AnsweredThenFailed(1), _hold));
        Assert.Null(_breaker.Count(Failures(1), _hold));
        Assert.Equal(CircuitState.Closed, _hold.Circuit);
        Assert.Equal(3, _breaker.Count(Failures(1), _hold));
    }

    [Fact]
    public void A_destination_without_a_FailureThreshold_never_opens()
    {
        _destination.FailureThreshold = null;

        Assert.Null(_breaker.Count(Failures(1000), _hold));
        Assert.Equal(CircuitState.Closed, _hold.Circuit);
    }

    [Fact]
    public void Is_half_open_after_BreakDuration_and_a_probe_answered_closes_it()
    {
        _breaker.Count(Failures(3), _hold);

        _time.Advance(Break - TimeSpan.FromMilliseconds(1));
        Assert.Equal(CircuitBreaker.Step.None, _breaker.Tick("billing", _hold));
        Assert.Equal(CircuitState.Open, _hold.Circuit);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(CircuitBreaker.Step.HalfOpened, _breaker.Tick("billing", _hold));
        Assert.Equal(CircuitState.HalfOpen, _hold.Circuit);
        _breaker.Probing("billing");
        // One probe at a time.
        Assert.Equal(CircuitBreaker.Step.None, _breaker.Tick("billing", _hold));

        Assert.Equal(CircuitState.Closed, _breaker.ProbeAnswered("billing", _hold, answered: true));
        Assert.Null(_hold.OpenUntil);
        // Counted afresh: two failures do not open it again.
        Assert.Null(_breaker.Count(Failures(2), _hold));
    }

    [Fact]
    public void A_failed_probe_opens_it_for_another_BreakDuration()
    {
        _breaker.Count(Failures(3), _hold);
        _time.Advance(Break);
        _breaker.Tick("billing", _hold);
        _breaker.Probing("billing");
        _time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(CircuitState.Open, _breaker.ProbeAnswered("billing", _hold, answered: false));

        Assert.Equal(_time.GetUtcNow() + Break, _hold.OpenUntil);
        Assert.Equal(CircuitBreaker.Step.None, _breaker.Tick("billing", _hold));
    }

    [Fact]
    public void A_probe_that_never_reports_counts_as_failed_once_its_Timeout_and_a_grace_are_over()
    {
        _breaker.Count(Failures(3), _hold);
        _time.Advance(Break);
        _breaker.Tick("billing", _hold);
        _breaker.Probing("billing");

        _time.Advance(_destination.Timeout + CircuitBreaker.ProbeGrace);
        Assert.Equal(CircuitBreaker.Step.None, _breaker.Tick("billing", _hold));
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(CircuitBreaker.Step.ProbeLost, _breaker.Tick("billing", _hold));

        Assert.Equal(CircuitState.Open, _hold.Circuit);
        Assert.Equal(_time.GetUtcNow() + Break, _hold.OpenUntil);
    }

    [Fact]
    public void A_half_open_circuit_without_a_probe_under_way_probes_again()
    {
        _hold.Circuit = CircuitState.HalfOpen;

        // After a restart of the control grain: it does not know of a probe.
        Assert.Equal(CircuitBreaker.Step.Probe, _breaker.Tick("billing", _hold));
    }

    [Fact]
    public void Opened_by_hand_it_stays_open_until_closed_by_hand()
    {
        _breaker.Set("billing", _hold, CircuitState.Open, "ops");
        _time.Advance(TimeSpan.FromDays(1));

        Assert.Equal(CircuitBreaker.Step.None, _breaker.Tick("billing", _hold));
        Assert.Equal(CircuitState.Open, _hold.Circuit);

        _breaker.Set("billing", _hold, CircuitState.Closed, "ops");
        Assert.Equal(CircuitState.Closed, _hold.Circuit);
        Assert.False(_hold.ManualOpen);
    }

    [Fact]
    public void Failures_reported_while_it_is_open_do_not_count()
    {
        _breaker.Count(Failures(3), _hold);
        var until = _hold.OpenUntil;
        _time.Advance(TimeSpan.FromSeconds(5));

        // Attempts that were in flight when it opened: the probe decides, not they.
        Assert.Null(_breaker.Count(Failures(50), _hold));
        Assert.Equal(until, _hold.OpenUntil);
    }
}
