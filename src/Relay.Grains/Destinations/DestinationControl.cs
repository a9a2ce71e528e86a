using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Relay.Contracts;
using Relay.Core.Delivery;
using Relay.Core.Options;

namespace Relay.Grains.Destinations;

/// <summary>
/// This silo's view of the destination holds (pauses, open circuits), refreshed from the
/// <see cref="IDestinationControlGrain"/> every <see cref="Interval"/>, and the outcomes of this silo's attempts to
/// destinations with a circuit breaker, reported to it in the same call. The faults this silo's adapters found
/// (<see cref="DestinationFaults"/>) hold their destinations too, on this silo, shown as each one's configuration error.
/// </summary>
public sealed partial class DestinationControl : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly IGrainFactory grains;
    private readonly IOptions<RelayOptions> options;
    private readonly TimeProvider time;
    private readonly ILogger<DestinationControl> logger;
    private readonly DestinationFaults _faults;
    private DestinationHolds _fromGrain = DestinationHolds.None;

    public DestinationControl(IGrainFactory grains, IOptions<RelayOptions> options, TimeProvider time, ILogger<DestinationControl> logger, DestinationFaults faults)
    {
        this.grains = grains;
        this.options = options;
        this.time = time;
        this.logger = logger;
        _faults = faults;
        _faults.Changed += () => Merge(Volatile.Read(ref _fromGrain));
    }

    internal static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    private readonly Dictionary<string, Tally> _tallies = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private DestinationHolds _holds = DestinationHolds.None;
    private string[] _held = [];
    private Task _loop = Task.CompletedTask;

    /// <summary>Destinations no attempt may go to now: paused, their circuit open, or disabled (<see cref="DestinationOptions.Enabled"/>).</summary>
    public IReadOnlyCollection<string> Held
    {
        get
        {
            var held = Volatile.Read(ref _held);
            var disabled = Disabled(options.Value);
            return disabled.Count == 0 ? held : held.Union(disabled, StringComparer.Ordinal).ToArray();
        }
    }

    public DestinationHolds Current => Volatile.Read(ref _holds);

    /// <summary>
    /// Whether no attempt may go to <paramref name="destination"/> now. A disabled destination is held as a paused one is:
    /// its deliveries are stored and wait, not counted against their contract, until it is enabled again (a catalog edit,
    /// in force without a restart: <c>options</c> is the catalog's current view).
    /// </summary>
    public bool IsHeld(string destination) =>
        (Current.ByDestination.TryGetValue(destination, out var hold) && hold.Holds)
        || (options.Value.Destinations.TryGetValue(destination, out var d) && !d.Enabled);

    private static List<string> Disabled(RelayOptions relay)
    {
        List<string>? disabled = null;
        foreach (var (name, destination) in relay.Destinations)
        {
            if (!destination.Enabled)
            {
                (disabled ??= []).Add(name);
            }
        }

        return disabled ?? NoneDisabled;
    }

    private static readonly List<string> NoneDisabled = [];

    /// <summary>Counts an attempt's outcome for the destination's circuit breaker (only destinations that have one).</summary>
    public void Record(string destination, AttemptOutcome outcome)
    {
        if (!options.Value.Destinations.TryGetValue(destination, out var d) || d.FailureThreshold is null)
        {
            return;
        }

        lock (_tallies)
        {
            var tally = _tallies.GetValueOrDefault(destination);
            // A final (4xx) answer still shows the destination is up: only retryable failures count.
            tally = outcome == AttemptOutcome.RetryableFailure
                ? tally with { FailuresSinceLastAnswer = tally.FailuresSinceLastAnswer + 1 }
                : new Tally(tally.Answered + 1, 0, true);
            _tallies[destination] = tally;
        }
    }

    /// <summary>Takes a fresh answer of the control grain (after an operator's action on this silo).</summary>
    public void Update(DestinationHolds holds)
    {
        Volatile.Write(ref _fromGrain, holds);
        Merge(holds);
    }

    private void Merge(DestinationHolds holds)
    {
        var faults = _faults.Current;
        if (faults.Count > 0)
        {
            var merged = new Dictionary<string, DestinationHold>(holds.ByDestination, StringComparer.Ordinal);
            foreach (var (destination, problem) in faults)
            {
                merged[destination] = merged.TryGetValue(destination, out var hold)
                    ? hold with { ConfigurationError = problem }
                    : new DestinationHold(false, CircuitState.Closed, null, problem, problem);
            }

            holds = new DestinationHolds(merged);
        }

        Volatile.Write(ref _holds, holds);
        Volatile.Write(ref _held, holds.ByDestination.Where(h => h.Value.Holds).Select(h => h.Key).ToArray());
    }

    public IDestinationControlGrain Grain => grains.GetGrain<IDestinationControlGrain>(0);

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(DestinationControl), ServiceLifecycleStage.Active, OnStartAsync, OnStopAsync);

    private async Task OnStartAsync(CancellationToken cancellationToken)
    {
        await RefreshAsync();
        _loop = Task.Run(LoopAsync, CancellationToken.None);
    }

    private async Task OnStopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await _loop.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token))
            {
                await RefreshAsync();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task RefreshAsync()
    {
        OutcomeReport[] reports;
        lock (_tallies)
        {
            reports = _tallies.Select(t => new OutcomeReport(t.Key, t.Value.Answered, t.Value.FailuresSinceLastAnswer, t.Value.AnyAnswer)).ToArray();
            _tallies.Clear();
        }

        try
        {
            Update(reports.Length > 0 ? await Grain.Report(reports) : await Grain.Get());
        }
        catch (Exception ex) when (!_stopping.IsCancellationRequested)
        {
            // Keep the last known holds; the next round tries again. The reports of this round are lost, which
            // only delays a circuit opening.
            Log.RefreshFailed(logger, ex);
        }
    }

    private readonly record struct Tally(int Answered, int FailuresSinceLastAnswer, bool AnyAnswer);

    private static partial class Log
    {
        [LoggerMessage(EventId = 1211, Level = LogLevel.Warning, Message = "Could not refresh the destinations' pauses and circuits; keeping the last known")]
        public static partial void RefreshFailed(ILogger logger, Exception exception);
    }
}
