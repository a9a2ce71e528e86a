using Relay.Contracts;
using Relay.Core.Options;

namespace Relay.Core.Retry;

/// <summary>
/// Whether a failed try is repeated at once, inside the same attempt (a contract's
/// <see cref="RetryContractOptions.ImmediateRetries"/>, as NServiceBus's immediate retries), or the attempt ends and the
/// delayed schedule (<see cref="RetrySchedule"/>) takes over. A pure function, as the retry math.
/// </summary>
public static class ImmediateRetry
{
    /// <param name="outcome">The outcome of the try just made.</param>
    /// <param name="retryAfter">The <c>Retry-After</c> of that try: a destination that asks to wait is not tried at once.</param>
    /// <param name="triesMade">Tries made in this attempt, the first included (1 after the first).</param>
    /// <param name="contract">The retry contract.</param>
    /// <param name="failureThreshold">
    /// The destination's <c>FailureThreshold</c>: that many failures in a row open its circuit, so the tries of one
    /// attempt stop there even before the silo learns that the circuit is open; null when it has no circuit breaker.
    /// </param>
    /// <param name="held">The destination is held (its circuit open, or paused) as this silo knows it now.</param>
    /// <param name="timeLeft">What is left of the attempt's time bound (the <c>SyncTimeout</c> for the first attempt).</param>
    public static bool TryAgain(AttemptOutcome outcome, TimeSpan? retryAfter, int triesMade, RetryContractOptions contract,
        int? failureThreshold, bool held, TimeSpan timeLeft)
    {
        ArgumentNullException.ThrowIfNull(contract);
        return outcome == AttemptOutcome.RetryableFailure
               && retryAfter is null or { Ticks: <= 0 }
               && triesMade <= contract.ImmediateRetries
               && (failureThreshold is not { } threshold || triesMade < threshold)
               && !held
               && timeLeft > TimeSpan.Zero;
    }
}
