using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Relay.Contracts;
using Relay.Core;
using Relay.Core.Messages;
using Relay.Core.Options;
using Relay.Core.Storage;
using Relay.Grains.Delivery;

namespace Relay.Grains.Destinations;

/// <summary>
/// Pauses and circuit breakers of every destination (see <see cref="IDestinationControlGrain"/>). The circuit of a
/// destination with a <c>FailureThreshold</c> opens after that many consecutive retryable failures reported by the
/// silos; after <c>BreakDuration</c> it lets one probe through (half-open): a delivery waiting for the destination
/// is attempted; an answer closes the circuit and releases the backlog, a failure opens it again.
/// </summary>
internal sealed partial class DestinationControlGrain(
    [PersistentState("control", RelayStorage.ControlName)] IPersistentState<DestinationControlState> state,
    IRelayStore store,
    IOptions<RelayOptions> options,
    TimeProvider time,
    ILogger<DestinationControlGrain> logger) : Grain, IDestinationControlGrain
{
    private static readonly TimeSpan DefaultBreak = TimeSpan.FromSeconds(30);
    private readonly Dictionary<string, int> _consecutiveFailures = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _probing = new(StringComparer.Ordinal);
    private DestinationHolds _holds = DestinationHolds.None;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _holds = Snapshot();
        this.RegisterGrainTimer(TickAsync, new GrainTimerCreationOptions(TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(250)) { KeepAlive = true });
        return Task.CompletedTask;
    }

    public Task<DestinationHolds> Get() => Task.FromResult(_holds);

    public async Task<DestinationHolds> Report(OutcomeReport[] reports)
    {
        var changed = false;
        foreach (var report in reports)
        {
            if (!options.Value.Destinations.TryGetValue(report.Destination, out var destination) || destination.FailureThreshold is not { } threshold)
            {
                continue;
            }

            var hold = Hold(report.Destination);
            if (hold.Circuit != CircuitState.Closed)
            {
                // Attempts that were in flight when it opened: the probe decides, not they.
                continue;
            }

            var failures = report.AnyAnswer ? report.FailuresSinceLastAnswer : _consecutiveFailures.GetValueOrDefault(report.Destination) + report.FailuresSinceLastAnswer;
            _consecutiveFailures[report.Destination] = failures;
            if (failures >= threshold)
            {
                var until = Now() + (destination.BreakDuration ?? DefaultBreak);
                hold.Circuit = CircuitState.Open;
                hold.OpenUntil = until;
                hold.Reason = $"{failures} consecutive retryable failures";
                changed = true;
                Log.Opened(logger, report.Destination, failures, until);
            }
        }

        if (changed)
        {
            await SaveAsync();
        }

        return _holds;
    }

    public async Task<DestinationHolds> Pause(string destination, string? by)
    {
        var hold = Hold(destination);
        hold.Paused = true;
        hold.Reason = $"paused by {by ?? "anonymous"}";
        await SaveAsync();
        Log.Paused(logger, destination, by ?? "anonymous");
        return _holds;
    }

    public async Task<DestinationHolds> Resume(string destination, string? by)
    {
        var hold = Hold(destination);
        hold.Paused = false;
        await SaveAsync();
        Log.Resumed(logger, destination, by ?? "anonymous");
        return _holds;
    }

    public async Task<DestinationHolds> SetCircuit(string destination, CircuitState circuit, string? by)
    {
        var hold = Hold(destination);
        hold.Circuit = circuit;
        // Opened by hand: it stays open until closed by hand (no probe).
        hold.ManualOpen = circuit == CircuitState.Open;
        hold.OpenUntil = null;
        hold.Reason = $"circuit set {circuit} by {by ?? "anonymous"}";
        _consecutiveFailures.Remove(destination);
        _probing.Remove(destination);
        await SaveAsync();
        Log.CircuitSet(logger, destination, circuit, by ?? "anonymous");
        return _holds;
    }

    public async Task ProbeResult(string destination, bool answered)
    {
        _probing.Remove(destination);
        var hold = Hold(destination);
        if (hold.Circuit != CircuitState.HalfOpen)
        {
            return;
        }

        if (answered)
        {
            hold.Circuit = CircuitState.Closed;
            hold.OpenUntil = null;
            _consecutiveFailures.Remove(destination);
            Log.Closed(logger, destination);
        }
        else
        {
            hold.Circuit = CircuitState.Open;
            hold.OpenUntil = Now() + (options.Value.Destinations.GetValueOrDefault(destination)?.BreakDuration ?? DefaultBreak);
            Log.Reopened(logger, destination, hold.OpenUntil.Value);
        }

        await SaveAsync();
    }

    /// <summary>Moves open circuits whose break is over to half-open, and sends their probe.</summary>
    private async Task TickAsync(CancellationToken cancellationToken)
    {
        var now = Now();
        foreach (var (name, hold) in state.State.Holds.ToArray())
        {
            if (hold.Circuit == CircuitState.Open && !hold.ManualOpen && hold.OpenUntil <= now)
            {
                hold.Circuit = CircuitState.HalfOpen;
                await SaveAsync();
                await StartProbeAsync(name, cancellationToken);
            }
            else if (hold.Circuit == CircuitState.HalfOpen && !_probing.ContainsKey(name))
            {
                // After a restart of this grain, or a probe that found nothing: probe (again).
                await StartProbeAsync(name, cancellationToken);
            }
            else if (hold.Circuit == CircuitState.HalfOpen && _probing.TryGetValue(name, out var started)
                     && now - started > (options.Value.Destinations.GetValueOrDefault(name)?.Timeout ?? TimeSpan.FromSeconds(10)) + TimeSpan.FromSeconds(10))
            {
                // The probe never reported (its silo died): count it as a failure.
                await ProbeResult(name, answered: false);
            }
        }
    }

    private async Task StartProbeAsync(string destination, CancellationToken cancellationToken)
    {
        IReadOnlyList<DeliveryKey> waiting;
        try
        {
            waiting = await store.FindDeliveriesAsync(DeliveryStatus.InRetry, destination, 1, cancellationToken);
            if (waiting.Count == 0)
            {
                waiting = await store.FindDeliveriesAsync(DeliveryStatus.Pending, destination, 1, cancellationToken);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.ProbeFailed(logger, ex, destination);
            return;
        }

        if (waiting.Count == 0)
        {
            // Nothing waits for it: close, and let the next attempt tell.
            await ProbeResult(destination, answered: true);
            return;
        }

        _probing[destination] = Now();
        GrainFactory.GetGrain<IDeliveryGrain>(waiting[0].ToString()).Probe().Ignore();
        Log.Probing(logger, destination, waiting[0].MessageId);
    }

    private PersistedHold Hold(string destination)
    {
        if (!state.State.Holds.TryGetValue(destination, out var hold))
        {
            hold = new PersistedHold();
            state.State.Holds[destination] = hold;
        }

        return hold;
    }

    private async Task SaveAsync()
    {
        foreach (var name in state.State.Holds.Where(h => !h.Value.Paused && h.Value.Circuit == CircuitState.Closed).Select(h => h.Key).ToList())
        {
            state.State.Holds.Remove(name);
        }

        _holds = Snapshot();
        await state.WriteStateAsync();
    }

    private DestinationHolds Snapshot() => new(state.State.Holds.ToDictionary(
        h => h.Key,
        h => new DestinationHold(h.Value.Paused, h.Value.Circuit, h.Value.OpenUntil, h.Value.Reason),
        StringComparer.Ordinal));

    private DateTimeOffset Now() => RelayClock.Now(time);

    private static partial class Log
    {
        [LoggerMessage(EventId = 1201, Level = LogLevel.Warning, Message = "Destination {Destination}: circuit opened after {Failures} consecutive retryable failures, until {Until:o}")]
        public static partial void Opened(ILogger logger, string destination, int failures, DateTimeOffset until);

        [LoggerMessage(EventId = 1202, Level = LogLevel.Information, Message = "Destination {Destination}: the probe was answered; circuit closed")]
        public static partial void Closed(ILogger logger, string destination);

        [LoggerMessage(EventId = 1203, Level = LogLevel.Warning, Message = "Destination {Destination}: the probe failed; circuit open again until {Until:o}")]
        public static partial void Reopened(ILogger logger, string destination, DateTimeOffset until);

        [LoggerMessage(EventId = 1204, Level = LogLevel.Information, Message = "Destination {Destination}: probing with message {MessageId}")]
        public static partial void Probing(ILogger logger, string destination, string messageId);

        [LoggerMessage(EventId = 1205, Level = LogLevel.Warning, Message = "Destination {Destination}: could not find a delivery to probe with")]
        public static partial void ProbeFailed(ILogger logger, Exception exception, string destination);

        [LoggerMessage(EventId = 1206, Level = LogLevel.Information, Message = "Destination {Destination} paused by {By}")]
        public static partial void Paused(ILogger logger, string destination, string by);

        [LoggerMessage(EventId = 1207, Level = LogLevel.Information, Message = "Destination {Destination} resumed by {By}")]
        public static partial void Resumed(ILogger logger, string destination, string by);

        [LoggerMessage(EventId = 1208, Level = LogLevel.Information, Message = "Destination {Destination}: circuit set {State} by {By}")]
        public static partial void CircuitSet(ILogger logger, string destination, CircuitState state, string by);
    }
}

[GenerateSerializer]
public sealed class DestinationControlState
{
    [Id(0)] public Dictionary<string, PersistedHold> Holds { get; set; } = new(StringComparer.Ordinal);
}

[GenerateSerializer]
public sealed class PersistedHold
{
    [Id(0)] public bool Paused { get; set; }
    [Id(1)] public CircuitState Circuit { get; set; }
    [Id(2)] public DateTimeOffset? OpenUntil { get; set; }
    [Id(3)] public string? Reason { get; set; }
    [Id(4)] public bool ManualOpen { get; set; }
}
