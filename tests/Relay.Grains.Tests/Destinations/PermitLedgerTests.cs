using System.Net;
using Microsoft.Extensions.Time.Testing;
using Orleans.Runtime;
using Relay.Grains.Destinations;

namespace Relay.Grains.Tests.Destinations;

/// <summary>
/// The cluster's account of a destination's MaxConcurrency permits (<see cref="PermitLedger"/>), under fake time:
/// never more held than the limit, fair shares, and what happens to the permits of a silo that dies.
/// </summary>
public sealed class PermitLedgerTests
{
    private static readonly TimeSpan LongestAttempt = TimeSpan.FromSeconds(10);
    private static readonly SiloAddress[] Silos = [.. Enumerable.Range(0, 3).Select(i => SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11111 + i), 1))];
    private readonly FakeTimeProvider _time = new();
    private readonly HashSet<SiloAddress> _dead = [];

    private PermitLedger Ledger(int max, bool recovering = false) => new(max, LongestAttempt, recovering, _time, _dead.Contains);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(6)]
    [InlineData(64)]
    public void Busy_silos_never_hold_more_than_the_limit_between_them_and_share_it_fairly_over_time(int max)
    {
        var ledger = Ledger(max);
        var held = new int[Silos.Length];
        var allowance = new int[Silos.Length];
        var permitSteps = new long[Silos.Length];

        // Every silo has a backlog; every 100 ms each ends its attempts and exchanges as ConcurrencyLimiter does:
        // gives back what is above its allowance, and asks for what its demand wants beyond what it holds.
        for (var step = 0; step < 600; step++)
        {
            foreach (var s in Enumerable.Range(0, Silos.Length).OrderBy(s => (s + step) % Silos.Length))
            {
                held[s] = Math.Min(held[s], allowance[s]);
                const int demand = 100;
                var answer = ledger.Exchange(new PermitRequest(Silos[s], held[s], demand, demand - held[s]));
                held[s] += answer.Granted;
                allowance[s] = answer.Allowance;
                Assert.True(held.Sum() <= max, $"{held.Sum()} permits held at step {step}; MaxConcurrency is {max}");
            }

            for (var s = 0; s < Silos.Length; s++)
            {
                permitSteps[s] += held[s];
            }

            _time.Advance(TimeSpan.FromMilliseconds(100));
        }

        // Each silo held its third of the permits over the minute, within a fifth.
        var fair = permitSteps.Sum() / 3.0;
        Assert.All(permitSteps, p => Assert.InRange(p, fair * 0.8, fair * 1.2));
        // And the limit was used: no permit left idle while silos wanted it (the hand-over takes one step).
        Assert.True(permitSteps.Sum() >= 600L * max * 0.8, $"permits used {permitSteps.Sum()} of {600L * max}");
    }

    [Fact]
    public void Without_contention_a_silo_may_hold_what_it_needs_and_the_spare()
    {
        var ledger = Ledger(10);
        ledger.Exchange(new PermitRequest(Silos[1], 0, 2, 2));

        var answer = ledger.Exchange(new PermitRequest(Silos[0], 0, 3, 3));

        Assert.Equal(3, answer.Granted);
        // Its 3, and the 5 nobody wants.
        Assert.Equal(8, answer.Allowance);
    }

    [Fact]
    public void The_permits_of_a_silo_that_stops_renewing_come_back_after_its_lease_and_longest_attempt()
    {
        var ledger = Ledger(1);
        Assert.Equal(1, ledger.Exchange(new PermitRequest(Silos[0], 0, 1, 1)).Granted);

        // Silo 0 dies holding it (kill -9: it says nothing more). Silo 1 waits...
        _time.Advance(PermitLedger.LeaseTerm + LongestAttempt);
        Assert.Equal(0, ledger.Exchange(new PermitRequest(Silos[1], 0, 1, 1)).Granted);

        // ...until an attempt started at the last moment of silo 0's lease would be over.
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, ledger.Exchange(new PermitRequest(Silos[1], 0, 1, 1)).Granted);
    }

    [Fact]
    public void The_permits_of_a_silo_declared_dead_come_back_at_once()
    {
        var ledger = Ledger(1);
        ledger.Exchange(new PermitRequest(Silos[0], 0, 1, 1));
        Assert.Equal(0, ledger.Exchange(new PermitRequest(Silos[1], 0, 1, 1)).Granted);

        _dead.Add(Silos[0]);

        Assert.Equal(1, ledger.Exchange(new PermitRequest(Silos[1], 0, 1, 1)).Granted);
    }

    [Fact]
    public void A_silo_that_renews_keeps_its_permits_however_long_it_holds_them()
    {
        var ledger = Ledger(1);
        ledger.Exchange(new PermitRequest(Silos[0], 0, 1, 1));

        for (var i = 0; i < 100; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(500));
            ledger.Exchange(new PermitRequest(Silos[0], 1, 1, 0));
        }

        Assert.Equal(0, ledger.Exchange(new PermitRequest(Silos[1], 0, 0, 0)).Granted);
        Assert.Equal(1, ledger.Held);
    }

    [Fact]
    public void A_ledger_after_one_that_granted_grants_nothing_new_until_every_holder_had_time_to_report()
    {
        // The grain moved (its silo died): silo 0 still holds the one permit the old ledger granted.
        var ledger = Ledger(1, recovering: true);

        Assert.Equal(0, ledger.Exchange(new PermitRequest(Silos[1], 0, 1, 1)).Granted);
        // Silo 0 renews: its holding is counted again.
        ledger.Exchange(new PermitRequest(Silos[0], 1, 1, 0));
        _time.Advance(PermitLedger.LeaseTerm + LongestAttempt);
        ledger.Exchange(new PermitRequest(Silos[0], 1, 1, 0));

        // Past the grace, the limit holds with what silo 0 reported.
        Assert.Equal(0, ledger.Exchange(new PermitRequest(Silos[1], 0, 1, 1)).Granted);
        ledger.Exchange(new PermitRequest(Silos[0], 0, 0, 0));
        Assert.Equal(1, ledger.Exchange(new PermitRequest(Silos[1], 0, 1, 1)).Granted);
    }

    [Fact]
    public void A_fresh_ledger_grants_at_once()
    {
        Assert.Equal(1, Ledger(1).Exchange(new PermitRequest(Silos[0], 0, 1, 1)).Granted);
    }
}
