namespace Relay.Grains.Destinations;

/// <summary>
/// The pacing of one destination's <c>MaxPerSecond</c>, kept by its <see cref="DestinationPacerGrain"/>: slot n is at
/// <c>start + n / MaxPerSecond</c>, never in the past, handed out at most <see cref="Horizon"/> ahead. A silo that
/// cannot use a slot on time loses it (see <see cref="DestinationRateLimiter"/>), and time left unused is not saved up,
/// so slots never bunch up into a burst.
/// </summary>
internal sealed class Pacer(TimeProvider time)
{
    /// <summary>How far ahead slots are handed out: a tenth of a second's worth at most.</summary>
    internal static readonly TimeSpan Horizon = TimeSpan.FromMilliseconds(100);

    private long _nextSlot;

    /// <summary>Up to <paramref name="wanted"/> slots at <paramref name="perSecond"/>; all of them at once without a limit.</summary>
    public SlotGrant Acquire(int wanted, int? perSecond)
    {
        if (perSecond is not { } rate || wanted <= 0)
        {
            return new SlotGrant(Math.Max(0, wanted), TimeSpan.Zero, TimeSpan.Zero);
        }

        var now = time.GetTimestamp();
        var spacingTicks = time.TimestampFrequency / (double)rate;
        var start = Math.Max(_nextSlot, now);
        // Relative to now, in whole ticks: timestamps are large, and a double near them would lose the last slot.
        var available = (int)Math.Floor((Horizon.TotalSeconds * time.TimestampFrequency - (start - now)) / spacingTicks);
        var count = Math.Clamp(available, 0, wanted);
        var firstIn = TimeSpan.FromSeconds((start - now) / (double)time.TimestampFrequency);
        var spacing = TimeSpan.FromSeconds(1.0 / rate);
        if (count == 0)
        {
            // Ask again when the next slot enters the horizon.
            return new SlotGrant(0, firstIn - Horizon + spacing, spacing);
        }

        _nextSlot = start + (long)Math.Ceiling(count * spacingTicks);
        return new SlotGrant(count, firstIn, spacing);
    }
}
