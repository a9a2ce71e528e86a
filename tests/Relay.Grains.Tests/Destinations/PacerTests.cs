using Microsoft.Extensions.Time.Testing;
using Relay.Grains.Destinations;

namespace Relay.Grains.Tests.Destinations;

/// <summary>The pacer of a destination's MaxPerSecond (<see cref="Pacer"/>), under fake time.</summary>
public sealed class PacerTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void Hands_out_slots_one_over_MaxPerSecond_apart_and_no_further_ahead_than_its_horizon()
    {
        var pacer = new Pacer(_time);

        var grant = pacer.Acquire(wanted: 50, perSecond: 100);

        // 100 per second: 10 ms apart; a tenth of a second ahead at most: 10 slots, the first now.
        Assert.Equal(10, grant.Count);
        Assert.Equal(TimeSpan.Zero, grant.FirstIn);
        Assert.Equal(TimeSpan.FromMilliseconds(10), grant.Spacing);

        // Nothing more within the horizon: ask again when the next slot enters it.
        var none = pacer.Acquire(wanted: 50, perSecond: 100);
        Assert.Equal(0, none.Count);
        Assert.Equal(TimeSpan.FromMilliseconds(10), none.FirstIn);

        _time.Advance(TimeSpan.FromMilliseconds(10));
        var next = pacer.Acquire(wanted: 50, perSecond: 100);
        Assert.Equal(1, next.Count);
        Assert.Equal(TimeSpan.FromMilliseconds(90), next.FirstIn);
    }

    [Fact]
    public void Time_left_unused_is_not_saved_up_into_a_burst()
    {
        var pacer = new Pacer(_time);
        pacer.Acquire(wanted: 10, perSecond: 100);

        _time.Advance(TimeSpan.FromSeconds(5));
        var grant = pacer.Acquire(wanted: 1000, perSecond: 100);

        // Five idle seconds would be 500 slots; only the horizon's 10 are given, starting now, not in the past.
        Assert.Equal(10, grant.Count);
        Assert.Equal(TimeSpan.Zero, grant.FirstIn);
    }

    [Fact]
    public void Callers_sharing_it_get_no_more_than_MaxPerSecond_between_them()
    {
        var pacer = new Pacer(_time);
        const int perSecond = 50;
        var slots = new List<TimeSpan>();
        var start = _time.GetUtcNow();

        // Three silos asking in turn for 7 slots every 5 ms, for 10 s.
        for (var step = 0; step < 2000; step++)
        {
            var grant = pacer.Acquire(wanted: 7, perSecond);
            var at = _time.GetUtcNow() - start + grant.FirstIn;
            slots.AddRange(Enumerable.Range(0, grant.Count).Select(i => at + grant.Spacing * i));
            _time.Advance(TimeSpan.FromMilliseconds(5));
        }

        slots.Sort();
        // No second holds more than MaxPerSecond slots, and the callers together got the whole rate: 10 s of it, and
        // the horizon's worth (100 ms) beyond.
        var most = slots.Select(s => slots.Count(t => t >= s && t < s + TimeSpan.FromMilliseconds(999))).Max();
        Assert.Equal(perSecond, most);
        Assert.InRange(slots.Count, 10 * perSecond, 10 * perSecond + (perSecond / 10) + 1);
    }

    [Fact]
    public void Without_a_limit_every_slot_wanted_is_given_at_once()
    {
        var grant = new Pacer(_time).Acquire(wanted: 1000, perSecond: null);

        Assert.Equal(1000, grant.Count);
        Assert.Equal(TimeSpan.Zero, grant.FirstIn);
        Assert.Equal(TimeSpan.Zero, grant.Spacing);
    }
}
