using Relay.Core.Options;

namespace Relay.Core.Retry;

/// <summary>
/// The retry math: when the next attempt of a delivery is due, or that there is none.
/// A pure function of (attempts made, contract, random source, Retry-After), as Polly's.
/// </summary>
public static class RetrySchedule
{
    /// <summary>
    /// The delay before the next attempt, after <paramref name="attemptsMade"/> attempts failed with a
    /// retryable error; null when the contract allows no more attempts.
    /// </summary>
    /// <param name="attemptsMade">Attempts made so far, the first included (1 after the first).</param>
    /// <param name="contract">The retry contract.</param>
    /// <param name="random01">A uniform random number in [0, 1) for the jitter.</param>
    /// <param name="retryAfter">The destination's <c>Retry-After</c>, honoured when longer than the contract's delay.</param>
    public static TimeSpan? NextDelay(int attemptsMade, RetryContractOptions contract, double random01, TimeSpan? retryAfter = null)
    {
        ArgumentNullException.ThrowIfNull(contract);
        ArgumentOutOfRangeException.ThrowIfLessThan(attemptsMade, 1);
        if (attemptsMade >= contract.MaxAttempts)
        {
            return null;
        }

        var delay = BaseDelay(attemptsMade, contract);
        var jitter = Math.Clamp(contract.Jitter, 0, 1);
        if (jitter > 0)
        {
            // random01 in [0,1) maps to a factor in [1 - jitter, 1 + jitter).
            var factor = 1 + jitter * (2 * Math.Clamp(random01, 0, 1) - 1);
            delay = TimeSpan.FromTicks((long)(delay.Ticks * factor));
        }

        if (contract.MaxDelay is { } max && delay > max)
        {
            delay = max;
        }

        if (retryAfter is { } after && after > delay)
        {
            delay = after;
        }

        return delay < TimeSpan.Zero ? TimeSpan.Zero : delay;
    }

    /// <summary>The delay before jitter and Retry-After: Fixed, Linear (Delay × n) or Exponential (Delay × 2^(n-1)).</summary>
    public static TimeSpan BaseDelay(int attemptsMade, RetryContractOptions contract)
    {
        ArgumentNullException.ThrowIfNull(contract);
        var ticks = (double)contract.Delay.Ticks;
        var n = Math.Max(1, attemptsMade);
        ticks = contract.Backoff switch
        {
            BackoffKind.Linear => ticks * n,
            BackoffKind.Exponential => ticks * Math.Pow(2, Math.Min(n - 1, 62)),
            _ => ticks,
        };

        var cap = contract.MaxDelay?.Ticks ?? TimeSpan.MaxValue.Ticks / 2;
        return TimeSpan.FromTicks((long)Math.Min(ticks, cap));
    }
}
