using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Relay.Core.Options;

namespace Relay.Grains.Destinations;

/// <summary>
/// The grain of a destination's <see cref="PermitLedger"/>. Its one write is a mark, made before its first grant,
/// that a ledger has granted permits: a ledger activated after that (its silo died) waits for the silos to report
/// what they hold before granting anything new; a fresh cluster does not wait.
/// </summary>
internal sealed partial class DestinationConcurrencyGrain(
    [PersistentState("permits", RelayStorage.ControlName)] IPersistentState<PermitLedgerState> state,
    IOptions<RelayOptions> options,
    IClusterMembershipService membership,
    TimeProvider time,
    ILogger<DestinationConcurrencyGrain> logger) : Grain, IDestinationConcurrencyGrain
{
    private PermitLedger? _ledger;
    private Task? _marking;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var destination = options.Value.Destinations.GetValueOrDefault(this.GetPrimaryKeyString());
        if (destination?.MaxConcurrency is { } max)
        {
            // The longest an attempt started under a lease may run: a later attempt's Timeout (the first attempt's
            // SyncTimeout is shorter), immediate retries included.
            var longest = destination.Timeout > destination.SyncTimeout ? destination.Timeout : destination.SyncTimeout;
            _ledger = new PermitLedger(max, longest, recovering: state.State.Granted, time, IsDead);
            if (state.State.Granted)
            {
                Log.Recovering(logger, this.GetPrimaryKeyString(), PermitLedger.LeaseTerm + longest);
            }
        }

        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Idle, so nobody renews a lease: nothing is held, and the next ledger need not wait.
        if (state.State.Granted && _ledger is { Held: 0 })
        {
            state.State.Granted = false;
            await state.WriteStateAsync(cancellationToken);
        }
    }

    public async Task<PermitAnswer> Exchange(PermitRequest request)
    {
        if (_ledger is null)
        {
            // No limit (any more): as many as wanted, for ever.
            return new PermitAnswer(request.Wanted, request.Held + request.Wanted, PermitLedger.LeaseTerm);
        }

        if (!state.State.Granted && request.Wanted > 0)
        {
            var marking = _marking ??= MarkAsync();
            try
            {
                await marking;
            }
            catch
            {
                // The next exchange tries again.
                _marking = null;
                throw;
            }
        }

        return _ledger.Exchange(request);
    }

    private async Task MarkAsync()
    {
        state.State.Granted = true;
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            state.State.Granted = false;
            throw;
        }
    }

    private bool IsDead(SiloAddress silo) => membership.CurrentSnapshot.GetSiloStatus(silo) == SiloStatus.Dead;

    private static partial class Log
    {
        [LoggerMessage(EventId = 1222, Level = LogLevel.Information,
            Message = "Destination {Destination}: its permit ledger starts again after another that granted permits (a silo left); no new permits for {Grace} while the silos report what they hold")]
        public static partial void Recovering(ILogger logger, string destination, TimeSpan grace);
    }
}

[GenerateSerializer]
public sealed class PermitLedgerState
{
    /// <summary>A ledger granted permits, and was not seen to end with none held.</summary>
    [Id(0)] public bool Granted { get; set; }
}
