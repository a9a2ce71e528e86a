using Microsoft.Extensions.Options;
using Relay.Core.Options;

namespace Relay.Grains.Destinations;

/// <summary>
/// Paces a destination: slot n is at <c>start + n / MaxPerSecond</c>, never in the past, handed out at most
/// <see cref="Horizon"/> ahead. A silo that cannot use a slot on time loses it (see <see cref="DestinationRateLimiter"/>),
/// so slots never bunch up into a burst.
/// </summary>
internal sealed class DestinationGrain(IOptions<RelayOptions> options, TimeProvider time) : Grain, IDestinationGrain
{
    /// <summary>How far ahead slots are handed out: a tenth of a second's worth at most.</summary>
    internal static readonly TimeSpan Horizon = TimeSpan.FromMilliseconds(100);

    private long _nextSlot;

    public Task<SlotGrant> Acquire(int wanted)
    {
        var rate = options.Value.Destinations.TryGetValue(this.GetPrimaryKeyString(), out var destination) ? destination.MaxPerSecond : null;
        if (rate is not { } perSecond || wanted <= 0)
        {
            return Task.FromResult(new SlotGrant(Math.Max(0, wanted), TimeSpan.Zero, TimeSpan.Zero));
        }

        var now = time.GetTimestamp();
        var spacingTicks = time.TimestampFrequency / (double)perSecond;
        var start = Math.Max(_nextSlot, now);
        var horizonEnd = now + Horizon.TotalSeconds * time.TimestampFrequency;
        var available = (int)Math.Floor((horizonEnd - start) / spacingTicks);
        var count = Math.Clamp(available, 0, wanted);
        var firstIn = TimeSpan.FromSeconds((start - now) / (double)time.TimestampFrequency);
        var spacing = TimeSpan.FromSeconds(1.0 / perSecond);
        if (count == 0)
        {
            // Ask again when the next slot enters the horizon.
            return Task.FromResult(new SlotGrant(0, firstIn - Horizon + spacing, spacing));
        }

        _nextSlot = start + (long)Math.Ceiling(count * spacingTicks);
        return Task.FromResult(new SlotGrant(count, firstIn, spacing));
    }
}
