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
/// Pauses and circuit breakers of every destination (see <see cref="IDestinationControlGrain"/>): it stores their
/// holds, and carries out what the <see cref="CircuitBreaker"/> decides. A probe is a delivery waiting for the
/// destination, attempted; an answer closes the circuit and releases the backlog, a failure opens it again.
/// </summary>
internal sealed partial class DestinationControlGrain(
    [PersistentState("control", RelayStorage.ControlName)] IPersistentState<DestinationControlState> state,
    IRelayStore store,
    IOptions<RelayOptions> options,
    TimeProvider time,
    ILogger<DestinationControlGrain> logger) : Grain, IDestinationControlGrain
{
    private readonly CircuitBreaker _breaker = new(name => options.Value.Destinations.GetValueOrDefault(name), time);
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
            // A closed circuit has no hold stored: it is kept only once it opens.
            var hold = state.State.Holds.GetValueOrDefault(report.Destination) ?? new PersistedHold();
            if (_breaker.Count(report, hold) is { } failures)
            {
                state.State.Holds[report.Destination] = hold;
                changed = true;
                Log.Opened(logger, report.Destination, failures, hold.OpenUntil!.Value);
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
        _breaker.Set(destination, Hold(destination), circuit, by ?? "anonymous");
        await SaveAsync();
        Log.CircuitSet(logger, destination, circuit, by ?? "anonymous");
        return _holds;
    }

    public async Task ProbeResult(string destination, bool answered)
    {
        var hold = Hold(destination);
        switch (_breaker.ProbeAnswered(destination, hold, answered))
        {
            case null:
                return;
            case CircuitState.Closed:
                Log.Closed(logger, destination);
                break;
            default:
                Log.Reopened(logger, destination, hold.OpenUntil!.Value);
                break;
        }

        await SaveAsync();
    }

    /// <summary>Moves open circuits whose break is over to half-open, and sends their probe.</summary>
    private async Task TickAsync(CancellationToken cancellationToken)
    {
        foreach (var (name, hold) in state.State.Holds.ToArray())
        {
            switch (_breaker.Tick(name, hold))
            {
                case CircuitBreaker.Step.HalfOpened:
                    await SaveAsync();
                    await StartProbeAsync(name, cancellationToken);
                    break;
                case CircuitBreaker.Step.Probe:
                    await StartProbeAsync(name, cancellationToken);
                    break;
                case CircuitBreaker.Step.ProbeLost:
                    Log.Reopened(logger, name, hold.OpenUntil!.Value);
                    await SaveAsync();
                    break;
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

        _breaker.Probing(destination);
        GrainReferences<IDeliveryGrain>.Get(GrainFactory, waiting[0].ToString()).Probe().Ignore();
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
