using Relay.Contracts;
using Relay.Core;
using Relay.Core.Options;

namespace Relay.Grains.Destinations;

/// <summary>
/// The circuit breakers of the destinations, as decisions over their holds (kept and stored by
/// <see cref="DestinationControlGrain"/>, which carries them out). A destination with a <c>FailureThreshold</c> opens
/// after that many consecutive retryable failures reported by the silos (an answer, even a 4xx, resets the count);
/// after <c>BreakDuration</c> it is half-open and one probe is let through: an answer closes it, a failure (or a probe
/// that never reports) opens it again. Opened by hand, it stays open until closed by hand.
/// </summary>
internal sealed class CircuitBreaker(Func<string, DestinationOptions?> destinationOf, TimeProvider time)
{
    internal static readonly TimeSpan DefaultBreak = TimeSpan.FromSeconds(30);

    /// <summary>How long past its attempt's Timeout a probe may take to report before it counts as failed.</summary>
    internal static readonly TimeSpan ProbeGrace = TimeSpan.FromSeconds(10);

    private readonly Dictionary<string, int> _consecutiveFailures = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _probing = new(StringComparer.Ordinal);

    /// <summary>What the control grain does for a destination at a tick.</summary>
    public enum Step
    {
        None,

        /// <summary>The break is over: the circuit is half-open now (store it), and a probe is due.</summary>
        HalfOpened,

        /// <summary>Half-open without a probe under way (after a restart of the grain, or a probe that found nothing).</summary>
        Probe,

        /// <summary>The probe never reported (its silo died): counted as failed (<see cref="ProbeAnswered"/> done).</summary>
        ProbeLost,
    }

    /// <summary>Counts a silo's report; the failures in a row when it opened the circuit, else null.</summary>
    public int? Count(OutcomeReport report, PersistedHold hold)
    {
        if (destinationOf(report.Destination) is not { FailureThreshold: { } threshold } destination
            // Attempts that were in flight when it opened: the probe decides, not they.
            || hold.Circuit != CircuitState.Closed)
        {
            return null;
        }

        var failures = report.AnyAnswer
            ? report.FailuresSinceLastAnswer
            : _consecutiveFailures.GetValueOrDefault(report.Destination) + report.FailuresSinceLastAnswer;
        _consecutiveFailures[report.Destination] = failures;
        if (failures < threshold)
        {
            return null;
        }

        hold.Circuit = CircuitState.Open;
        hold.OpenUntil = Now() + (destination.BreakDuration ?? DefaultBreak);
        hold.Reason = $"{failures} consecutive retryable failures";
        return failures;
    }

    /// <summary>An operator sets the circuit: opened by hand, it stays open until closed by hand (no probe).</summary>
    public void Set(string destination, PersistedHold hold, CircuitState circuit, string by)
    {
        hold.Circuit = circuit;
        hold.ManualOpen = circuit == CircuitState.Open;
        hold.OpenUntil = null;
        hold.Reason = $"circuit set {circuit} by {by}";
        _consecutiveFailures.Remove(destination);
        _probing.Remove(destination);
    }

    /// <summary>What is due for <paramref name="destination"/> now.</summary>
    public Step Tick(string destination, PersistedHold hold)
    {
        var now = Now();
        if (hold.Circuit == CircuitState.Open && !hold.ManualOpen && hold.OpenUntil <= now)
        {
            hold.Circuit = CircuitState.HalfOpen;
            return Step.HalfOpened;
        }

        if (hold.Circuit != CircuitState.HalfOpen)
        {
            return Step.None;
        }

        if (!_probing.TryGetValue(destination, out var started))
        {
            return Step.Probe;
        }

        if (now - started > (destinationOf(destination)?.Timeout ?? TimeSpan.FromSeconds(10)) + ProbeGrace)
        {
            ProbeAnswered(destination, hold, answered: false);
            return Step.ProbeLost;
        }

        return Step.None;
    }

    /// <summary>A probe was sent for <paramref name="destination"/>.</summary>
    public void Probing(string destination) => _probing[destination] = Now();

    /// <summary>The probe's outcome; the new state of the circuit, or null when it was no longer half-open.</summary>
    public CircuitState? ProbeAnswered(string destination, PersistedHold hold, bool answered)
    {
        _probing.Remove(destination);
        if (hold.Circuit != CircuitState.HalfOpen)
        {
            return null;
        }

        if (answered)
        {
            hold.Circuit = CircuitState.Closed;
            hold.OpenUntil = null;
            _consecutiveFailures.Remove(destination);
        }
        else
        {
            hold.Circuit = CircuitState.Open;
            hold.OpenUntil = Now() + (destinationOf(destination)?.BreakDuration ?? DefaultBreak);
        }

        return hold.Circuit;
    }

    private DateTimeOffset Now() => RelayClock.Now(time);
}
