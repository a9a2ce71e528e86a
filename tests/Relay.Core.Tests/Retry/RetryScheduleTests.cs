using Relay.Core.Retry;

namespace Relay.Core.Tests.Retry;

public class RetryScheduleTests
{
    /// <summary>One call of <see cref="RetrySchedule.NextDelay"/>; a record so that FsCheck prints a failing case readably.</summary>
    public sealed record Case(int MaxAttempts, TimeSpan Delay, BackoffKind Backoff, TimeSpan? MaxDelay, double Jitter,
        int AttemptsMade, double Random01, TimeSpan? RetryAfter)
    {
        public RetryContractOptions Contract => new()
        {
            MaxAttempts = MaxAttempts, Delay = Delay, Backoff = Backoff, MaxDelay = MaxDelay, Jitter = Jitter,
        };

        public TimeSpan? Next() => RetrySchedule.NextDelay(AttemptsMade, Contract, Random01, RetryAfter);
    }

    private static readonly Gen<TimeSpan> Delays = Gen.OneOf(
        Gen.Choose(0, 60_000).Select(ms => TimeSpan.FromMilliseconds(ms)),
        Gen.Choose(0, 30 * 24).Select(h => TimeSpan.FromHours(h)),
        Gen.Elements(TimeSpan.Zero, TimeSpan.FromTicks(1), TimeSpan.FromDays(3650)));

    private static readonly Gen<double> Random01 = Gen.OneOf(
        Gen.Choose(0, 999_999).Select(i => i / 1_000_000.0),
        Gen.Elements(0.0, 0.5, Math.BitDecrement(1.0)));

    private static readonly Gen<double> Jitters = Gen.OneOf(
        Gen.Choose(0, 1000).Select(i => i / 1000.0),
        Gen.Elements(0.0, 1.0));

    /// <summary>Contracts the options validator accepts (MaxDelay not below Delay), with or without Retry-After.</summary>
    private static Gen<Case> ValidCases(bool withRetryAfter) =>
        from maxAttempts in Gen.Choose(1, 30)
        from delay in Delays
        from backoff in Gen.Elements(BackoffKind.Fixed, BackoffKind.Linear, BackoffKind.Exponential)
        from extra in Delays
        from hasMax in Gen.Elements(true, false)
        from jitter in Jitters
        from attemptsMade in Gen.OneOf(Gen.Choose(1, 40), Gen.Elements(62, 63, 64, 1000, int.MaxValue))
        from random in Random01
        from retryAfter in Delays
        from hasRetryAfter in Gen.Elements(true, false)
        select new Case(maxAttempts, delay, backoff, hasMax ? delay + extra : null, jitter, attemptsMade, random,
            withRetryAfter && hasRetryAfter ? retryAfter : null);

    /// <summary>Anything, including what the options validator refuses (negative delays, MaxDelay below Delay, Jitter outside [0, 1]).</summary>
    private static readonly Gen<Case> AnyCases =
        from maxAttempts in Gen.Choose(-2, 30)
        from delayMs in Gen.Choose(-100_000, 100_000)
        from backoff in Gen.Elements(BackoffKind.Fixed, BackoffKind.Linear, BackoffKind.Exponential)
        from maxMs in Gen.Choose(-100_000, 100_000)
        from hasMax in Gen.Elements(true, false)
        from jitter in Gen.Choose(-2000, 3000).Select(i => i / 1000.0)
        from attemptsMade in Gen.Choose(1, 100)
        from random in Gen.Choose(-1000, 2000).Select(i => i / 1000.0)
        from retryAfterMs in Gen.Choose(-100_000, 100_000)
        from hasRetryAfter in Gen.Elements(true, false)
        select new Case(maxAttempts, TimeSpan.FromMilliseconds(delayMs), backoff,
            hasMax ? TimeSpan.FromMilliseconds(maxMs) : null, jitter, attemptsMade, random,
            hasRetryAfter ? TimeSpan.FromMilliseconds(retryAfterMs) : null);

    [Property(MaxTest = 2000)]
    public Property Delay_never_exceeds_MaxDelay_without_Retry_After() =>
        Prop.ForAll(ValidCases(withRetryAfter: false).Where(c => c.MaxDelay is not null).ToArbitrary(),
            c => c.Next() is not { } delay || delay <= c.MaxDelay!.Value);

    [Property(MaxTest = 2000)]
    public Property Jitter_keeps_the_delay_within_the_fraction_of_the_base_delay() =>
        Prop.ForAll(ValidCases(withRetryAfter: false).ToArbitrary(), c =>
        {
            if (c.Next() is not { } delay)
            {
                return c.AttemptsMade >= c.MaxAttempts;
            }

            var baseTicks = (double)RetrySchedule.BaseDelay(c.AttemptsMade, c.Contract).Ticks;
            // One tick for the truncation to whole ticks, and a relative margin for double rounding of huge delays.
            var slack = 1 + baseTicks * 1e-12;
            return delay.Ticks >= baseTicks * (1 - c.Jitter) - slack
                && delay.Ticks <= baseTicks * (1 + c.Jitter) + slack;
        });

    [Property(MaxTest = 2000)]
    public Property Without_jitter_the_delay_is_exactly_the_base_delay() =>
        Prop.ForAll(ValidCases(withRetryAfter: false).Select(c => c with { Jitter = 0 }).ToArbitrary(),
            c => c.Next() is not { } delay || delay == RetrySchedule.BaseDelay(c.AttemptsMade, c.Contract));

    [Property(MaxTest = 2000)]
    public Property Returns_null_exactly_when_the_attempts_made_reach_MaxAttempts() =>
        Prop.ForAll(AnyCases.ToArbitrary(), c => (c.Next() is null) == (c.AttemptsMade >= c.MaxAttempts));

    [Property(MaxTest = 300)]
    public Property Attempts_never_exceed_MaxAttempts() =>
        Prop.ForAll(ValidCases(withRetryAfter: true).ToArbitrary(), c =>
        {
            // Walk a delivery that fails every time: one attempt, then one more per delay the schedule grants.
            var attempts = 1;
            while (RetrySchedule.NextDelay(attempts, c.Contract, c.Random01, c.RetryAfter) is not null)
            {
                attempts++;
                if (attempts > c.MaxAttempts)
                {
                    return false;
                }
            }

            return attempts == c.MaxAttempts;
        });

    [Property(MaxTest = 2000)]
    public Property Retry_After_is_honoured_only_when_longer_than_the_contract_delay() =>
        Prop.ForAll(ValidCases(withRetryAfter: true).Where(c => c.RetryAfter is not null && c.AttemptsMade < c.MaxAttempts).ToArbitrary(), c =>
        {
            var withoutRetryAfter = RetrySchedule.NextDelay(c.AttemptsMade, c.Contract, c.Random01)!.Value;
            var delay = c.Next()!.Value;
            return c.RetryAfter!.Value > withoutRetryAfter
                ? delay == c.RetryAfter.Value
                : delay == withoutRetryAfter;
        });

    [Property(MaxTest = 2000)]
    public Property Delay_is_never_negative() =>
        Prop.ForAll(AnyCases.ToArbitrary(), c => c.Next() is not { } delay || delay >= TimeSpan.Zero);

    [Property(MaxTest = 500)]
    public Property Delay_is_never_negative_for_valid_contracts_with_extreme_attempts() =>
        Prop.ForAll(ValidCases(withRetryAfter: true).ToArbitrary(), c => c.Next() is not { } delay || delay >= TimeSpan.Zero);

    [Fact]
    public void Fixed_backoff_repeats_the_delay()
    {
        var contract = new RetryContractOptions { MaxAttempts = 5, Delay = TimeSpan.FromSeconds(7), Backoff = BackoffKind.Fixed };

        Assert.Equal(Seconds(7, 7, 7, 7), Delays_of(contract));
    }

    [Fact]
    public void Linear_backoff_is_10_20_30_seconds_as_NServiceBus()
    {
        var contract = new RetryContractOptions { MaxAttempts = 4, Delay = TimeSpan.FromSeconds(10), Backoff = BackoffKind.Linear };

        Assert.Equal(Seconds(10, 20, 30), Delays_of(contract));
    }

    [Fact]
    public void Exponential_backoff_doubles_1_2_4_8_seconds()
    {
        var contract = new RetryContractOptions { MaxAttempts = 5, Delay = TimeSpan.FromSeconds(1), Backoff = BackoffKind.Exponential };

        Assert.Equal(Seconds(1, 2, 4, 8), Delays_of(contract));
    }

    [Fact]
    public void Exponential_backoff_stops_growing_at_MaxDelay()
    {
        var contract = new RetryContractOptions
        {
            MaxAttempts = 7, Delay = TimeSpan.FromSeconds(1), Backoff = BackoffKind.Exponential, MaxDelay = TimeSpan.FromSeconds(5),
        };

        Assert.Equal(Seconds(1, 2, 4, 5, 5, 5), Delays_of(contract));
    }

    [Fact]
    public void Exponential_backoff_without_MaxDelay_does_not_overflow_after_many_attempts()
    {
        var contract = new RetryContractOptions { MaxAttempts = int.MaxValue, Delay = TimeSpan.FromDays(1), Backoff = BackoffKind.Exponential, Jitter = 1 };

        var delay = RetrySchedule.NextDelay(10_000, contract, Math.BitDecrement(1.0));

        Assert.NotNull(delay);
        Assert.True(delay > TimeSpan.FromDays(365 * 1000));
    }

    [Fact]
    public void Contract_fast_of_the_contract_page_makes_exactly_4_waits_of_5_seconds()
    {
        // "fast": { "MaxAttempts": 5, "Delay": "00:00:05" }: 5 attempts in all, so 4 waits between them.
        var fast = new RetryContractOptions { MaxAttempts = 5, Delay = TimeSpan.FromSeconds(5) };

        Assert.Equal(Seconds(5, 5, 5, 5), Delays_of(fast));
    }

    [Fact]
    public void Default_contract_is_5_attempts_5_seconds_apart()
    {
        var builtIn = new RetryContractOptions();

        Assert.Equal(Seconds(5, 5, 5, 5), Delays_of(builtIn));
    }

    [Fact]
    public void Contract_backoff_of_the_contract_page_spreads_by_20_percent_and_caps_at_one_hour()
    {
        var backoff = new RetryContractOptions
        {
            MaxAttempts = 10, Delay = TimeSpan.FromSeconds(1), Backoff = BackoffKind.Exponential,
            MaxDelay = TimeSpan.FromHours(1), Jitter = 0.2,
        };

        Assert.Equal(TimeSpan.FromSeconds(0.8), RetrySchedule.NextDelay(1, backoff, 0.0));
        Assert.Equal(TimeSpan.FromSeconds(2), RetrySchedule.NextDelay(2, backoff, 0.5));
        Assert.Equal(TimeSpan.FromSeconds(256 * 1.2), RetrySchedule.NextDelay(9, backoff, 1.0));
        Assert.Null(RetrySchedule.NextDelay(10, backoff, 0.5));
        var capped = new RetryContractOptions { MaxAttempts = 30, Delay = TimeSpan.FromSeconds(1), Backoff = BackoffKind.Exponential, MaxDelay = TimeSpan.FromHours(1), Jitter = 0.2 };
        Assert.Equal(TimeSpan.FromHours(1), RetrySchedule.NextDelay(20, capped, Math.BitDecrement(1.0)));
        Assert.Equal(TimeSpan.FromHours(0.8), RetrySchedule.NextDelay(20, capped, 0.0));
    }

    [Fact]
    public void A_single_attempt_contract_never_retries()
    {
        var once = new RetryContractOptions { MaxAttempts = 1, Delay = TimeSpan.FromSeconds(5) };

        Assert.Null(RetrySchedule.NextDelay(1, once, 0.5));
    }

    [Fact]
    public void A_longer_Retry_After_replaces_the_delay_and_may_exceed_MaxDelay()
    {
        var contract = new RetryContractOptions { MaxAttempts = 5, Delay = TimeSpan.FromSeconds(5), MaxDelay = TimeSpan.FromSeconds(10) };

        Assert.Equal(TimeSpan.FromSeconds(60), RetrySchedule.NextDelay(1, contract, 0.5, TimeSpan.FromSeconds(60)));
        Assert.Equal(TimeSpan.FromSeconds(5), RetrySchedule.NextDelay(1, contract, 0.5, TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public void Retry_After_does_not_grant_an_attempt_beyond_MaxAttempts()
    {
        var contract = new RetryContractOptions { MaxAttempts = 2, Delay = TimeSpan.FromSeconds(5) };

        Assert.Null(RetrySchedule.NextDelay(2, contract, 0.5, TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public void Attempts_made_below_one_is_a_programming_error()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => RetrySchedule.NextDelay(0, new RetryContractOptions(), 0.5));
    }

    private static List<TimeSpan> Delays_of(RetryContractOptions contract)
    {
        var delays = new List<TimeSpan>();
        for (var attempts = 1; RetrySchedule.NextDelay(attempts, contract, 0.5) is { } delay; attempts++)
        {
            delays.Add(delay);
        }

        return delays;
    }

    private static List<TimeSpan> Seconds(params double[] seconds) => seconds.Select(TimeSpan.FromSeconds).ToList();
}
