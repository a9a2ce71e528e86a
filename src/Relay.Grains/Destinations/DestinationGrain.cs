using Microsoft.Extensions.Options;
using Relay.Core.Options;

namespace Relay.Grains.Destinations;

/// <summary>
/// A token bucket refilled at <c>MaxPerSecond</c>, holding at most a tenth of a second's worth, so that the
/// cluster's rate over any second stays within about 10% of the limit, whatever the number of silos.
/// </summary>
internal sealed class DestinationGrain(IOptions<RelayOptions> options, TimeProvider time) : Grain, IDestinationGrain
{
    private double _tokens;
    private long _lastRefill;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _lastRefill = time.GetTimestamp();
        return Task.CompletedTask;
    }

    public Task<TokenGrant> Acquire(int wanted)
    {
        var rate = options.Value.Destinations.TryGetValue(this.GetPrimaryKeyString(), out var destination) ? destination.MaxPerSecond : null;
        if (rate is not { } perSecond)
        {
            return Task.FromResult(new TokenGrant(wanted, TimeSpan.Zero));
        }

        var capacity = Math.Max(1, perSecond / 10.0);
        var now = time.GetTimestamp();
        _tokens = Math.Min(capacity, _tokens + time.GetElapsedTime(_lastRefill, now).TotalSeconds * perSecond);
        _lastRefill = now;

        var granted = (int)Math.Min(wanted, Math.Floor(_tokens));
        _tokens -= granted;
        var askAgainIn = granted > 0 ? TimeSpan.Zero : TimeSpan.FromSeconds((1 - _tokens) / perSecond);
        return Task.FromResult(new TokenGrant(granted, askAgainIn));
    }
}
