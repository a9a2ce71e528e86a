using Relay.Core.Retry;

namespace Relay.Core.Tests.Retry;

public class WakeBackoffTests
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan Max = TimeSpan.FromMinutes(1);
    private static readonly DateTimeOffset T0 = new(2026, 12, 6, 21, 0, 0, TimeSpan.Zero);
    private static readonly DeliveryKey Poison = new("gone", "m-1");
    private static readonly DeliveryKey Other = new("orders", "m-2");

    [Property]
    public Property Delay_doubles_from_the_first_and_never_exceeds_the_max() => Prop.ForAll(
        Gen.OneOf(Gen.Choose(1, 80), Gen.Elements(int.MaxValue - 1, int.MaxValue)).ToArbitrary(),
        Gen.Choose(1, 10_000).ToArbitrary(),
        Gen.Choose(1, 10_000_000).ToArbitrary(),
        (failures, firstMs, maxMs) =>
        {
            var first = TimeSpan.FromMilliseconds(firstMs);
            var max = TimeSpan.FromMilliseconds(Math.Max(firstMs, maxMs));
            var delay = WakeBackoff.Delay(failures, first, max);
            var next = failures == int.MaxValue ? delay : WakeBackoff.Delay(failures + 1, first, max);
            return delay <= max && delay >= first && next >= delay && (next == max || next == delay * 2);
        });

    [Fact]
    public void A_failed_wake_holds_its_key_only_and_a_success_releases_it()
    {
        var backoff = new WakeBackoff(Poll, Max, capacity: 10);

        Assert.Equal((1, Poll), backoff.Failed(Poison, T0));

        Assert.True(backoff.IsHeld(Poison, T0 + Poll / 2));
        Assert.False(backoff.IsHeld(Other, T0));
        Assert.False(backoff.IsHeld(Poison, T0 + Poll));
        Assert.Equal((2, Poll * 2), backoff.Failed(Poison, T0 + Poll));
        Assert.True(backoff.IsHeld(Poison, T0 + Poll * 2));

        backoff.Succeeded(Poison);
        Assert.False(backoff.IsHeld(Poison, T0 + Poll * 2));
        Assert.Equal(0, backoff.Count);
    }

    [Fact]
    public void A_key_failing_for_ever_is_tried_about_once_per_max_not_at_every_poll()
    {
        var backoff = new WakeBackoff(Poll, Max, capacity: 10);
        var wakes = 0;
        for (var now = T0; now < T0 + TimeSpan.FromMinutes(10); now += Poll)
        {
            if (!backoff.IsHeld(Poison, now))
            {
                wakes++;
                backoff.Failed(Poison, now);
            }
        }

        // 2400 polls in 10 minutes; 8 doublings to reach a minute, then one a minute.
        Assert.InRange(wakes, 10, 20);
    }

    [Fact]
    public void Holds_at_most_its_capacity_and_forgets_keys_no_longer_woken()
    {
        var backoff = new WakeBackoff(Poll, Max, capacity: 2);
        Assert.NotNull(backoff.Failed(new DeliveryKey("gone", "1"), T0));
        Assert.NotNull(backoff.Failed(new DeliveryKey("gone", "2"), T0));

        Assert.Null(backoff.Failed(new DeliveryKey("gone", "3"), T0));
        Assert.False(backoff.IsHeld(new DeliveryKey("gone", "3"), T0));
        // A key held already still counts its failures.
        Assert.Equal(2, backoff.Failed(new DeliveryKey("gone", "1"), T0 + Poll)!.Value.Failures);

        backoff.Prune(T0 + Max);
        Assert.Equal(2, backoff.Count);
        backoff.Prune(T0 + Poll * 3 + Max + TimeSpan.FromTicks(1));
        Assert.Equal(0, backoff.Count);
    }
}
