using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Relay.Silo.Security;

namespace Relay.Silo.Tests;

/// <summary>The throttle's rule, with time moved by hand.</summary>
public sealed class FailedAuthThrottleTests
{
    private readonly FakeTimeProvider _time = new();

    private FailedAuthThrottle Throttle(int limit, TimeSpan window) =>
        new(Options.Create(new FailedAuthOptions { Limit = limit, Window = window }), _time);

    [Fact]
    public void An_address_is_blocked_from_its_limit_until_its_window_ends_then_starts_afresh()
    {
        var throttle = Throttle(2, TimeSpan.FromMinutes(1));
        throttle.Failed("a");
        Assert.Null(throttle.Check("a", null));
        _time.Advance(TimeSpan.FromSeconds(20));
        throttle.Failed("a");
        Assert.Equal(TimeSpan.FromSeconds(40), throttle.Check("a", null));
        Assert.Null(throttle.Check("b", null));

        _time.Advance(TimeSpan.FromSeconds(40));
        Assert.Null(throttle.Check("a", null));
        throttle.Failed("a");
        Assert.Null(throttle.Check("a", null));
    }

    [Fact]
    public void A_caller_that_succeeded_from_the_address_passes_a_block_for_a_day()
    {
        var throttle = Throttle(1, TimeSpan.FromDays(3));
        var ops = new RelayCaller("ops", RelayRole.Operator);
        throttle.Succeeded("a", ops);
        throttle.Failed("a");
        Assert.Null(throttle.Check("a", ops));
        Assert.NotNull(throttle.Check("a", new RelayCaller("other", RelayRole.Operator)));
        Assert.NotNull(throttle.Check("a", null));

        _time.Advance(FailedAuthThrottle.RememberSuccessFor - TimeSpan.FromMinutes(1));
        throttle.Failed("a");
        _time.Advance(TimeSpan.FromMinutes(2));
        Assert.NotNull(throttle.Check("a", ops));
    }

    [Fact]
    public void Ended_windows_are_forgotten()
    {
        var throttle = Throttle(1, TimeSpan.FromMinutes(1));
        for (var i = 0; i < 100; i++)
        {
            throttle.Failed("a" + i);
        }

        _time.Advance(TimeSpan.FromMinutes(2));
        throttle.Failed("b");
        Assert.Equal(1, throttle.Tracked);
    }
}
