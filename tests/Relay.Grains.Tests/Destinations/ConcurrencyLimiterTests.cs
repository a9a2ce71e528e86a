using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Time.Testing;
using Orleans.Runtime;
using Relay.Core.Options;
using Relay.Grains.Destinations;

namespace Relay.Grains.Tests.Destinations;

/// <summary>
/// A silo's side of MaxConcurrency (<see cref="ConcurrencyLimiter"/>) against a real <see cref="PermitLedger"/> (the
/// grain's logic, without a silo), under fake time: several limiters stand for several silos.
/// </summary>
public sealed class ConcurrencyLimiterTests : IDisposable
{
    private const string Destination = "narrow";
    private readonly FakeTimeProvider _time = new();
    private readonly List<ConcurrencyLimiter> _limiters = [];

    public void Dispose()
    {
        foreach (var limiter in _limiters)
        {
            limiter.Dispose();
        }
    }

    private static DestinationOptions Options(int max) => new() { MaxConcurrency = max, Timeout = TimeSpan.FromSeconds(10) };

    private (LedgerGrain Grain, ConcurrencyLimiter[] Silos) Cluster(int max, int silos)
    {
        var grain = new LedgerGrain(new PermitLedger(max, TimeSpan.FromSeconds(10), recovering: false, _time, _ => false));
        var limiters = Enumerable.Range(0, silos)
            .Select(i => new ConcurrencyLimiter(_ => grain, SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11111 + i), 1), _time))
            .ToArray();
        _limiters.AddRange(limiters);
        return (grain, limiters);
    }

    [Fact]
    public async Task An_attempt_with_a_permit_held_free_starts_without_a_call_to_the_ledger()
    {
        var (grain, silos) = Cluster(max: 10, silos: 1);

        for (var i = 0; i < 100; i++)
        {
            using var lease = await silos[0].EnterAsync(Destination, Options(10), TimeSpan.FromSeconds(1));
            Assert.NotNull(lease);
        }

        // One exchange took the permit; the 99 attempts after it used it again.
        Assert.Equal(1, grain.Calls);
    }

    [Fact]
    public async Task A_limit_of_1_holds_across_3_silos_and_each_silo_gets_its_turn()
    {
        var (grain, silos) = Cluster(max: 1, silos: 3);
        var waiting = silos.SelectMany(silo => Enumerable.Range(0, 3).Select(_ => silo.EnterAsync(Destination, Options(1), TimeSpan.FromHours(1)))).ToList();
        var served = 0;

        while (waiting.Count > 0)
        {
            var done = await Until(() => waiting.FirstOrDefault(t => t.IsCompleted), "a permit handed out");
            // Never two attempts in flight, on any silo, at any moment.
            Assert.Equal(1, silos.Sum(s => s.Usage(Destination).InUse));
            Assert.True(grain.Ledger.Held <= 1);
            Assert.Equal(1, waiting.Count(t => t.IsCompleted));
            waiting.Remove(done);
            (await done)!.Dispose();
            served++;
        }

        Assert.Equal(9, served);
    }

    [Fact]
    public async Task A_silo_cut_off_from_the_ledger_starts_nothing_once_its_lease_is_over()
    {
        var (grain, silos) = Cluster(max: 2, silos: 1);
        (await silos[0].EnterAsync(Destination, Options(2), TimeSpan.FromSeconds(1)))!.Dispose();
        grain.CutOff = true;

        // Within its lease it goes on with the permit it holds...
        var within = await silos[0].EnterAsync(Destination, Options(2), TimeSpan.FromSeconds(1));
        Assert.NotNull(within);
        within.Dispose();

        // ...after it, not: the ledger may have given that permit to another silo by now.
        _time.Advance(PermitLedger.LeaseTerm);
        var after = silos[0].EnterAsync(Destination, Options(2), TimeSpan.FromSeconds(1));
        Assert.Null(await await Until(() => after.IsCompleted ? after : null, "the attempt given up"));
    }

    [Fact]
    public async Task Destinations_without_a_limit_never_ask_the_ledger()
    {
        var (grain, silos) = Cluster(max: 1, silos: 1);

        var leases = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => silos[0].EnterAsync(Destination, new DestinationOptions(), TimeSpan.Zero)));

        Assert.All(leases, Assert.NotNull);
        Assert.Equal(0, grain.Calls);
    }

    /// <summary>Waits for <paramref name="found"/> to be non-null, moving fake time on by 10 ms at a time; fails after 10 s of real time.</summary>
    private async Task<T> Until<T>(Func<T?> found, string what)
        where T : class
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (found() is { } result)
            {
                return result;
            }

            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(10), $"Gave up waiting for {what}.");
            _time.Advance(TimeSpan.FromMilliseconds(10));
            await Task.Delay(1);
        }
    }

    /// <summary>The grain's side, without Orleans: the ledger itself; <see cref="CutOff"/> makes every call fail.</summary>
    private sealed class LedgerGrain(PermitLedger ledger) : IDestinationConcurrencyGrain
    {
        private int _calls;

        public PermitLedger Ledger => ledger;

        public int Calls => Volatile.Read(ref _calls);

        public bool CutOff { get; set; }

        public Task<PermitAnswer> Exchange(PermitRequest request)
        {
            Interlocked.Increment(ref _calls);
            return CutOff ? Task.FromException<PermitAnswer>(new TimeoutException("cut off")) : Task.FromResult(ledger.Exchange(request));
        }
    }
}
