using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Relay.Contracts;
using Relay.Core.Options;
using Relay.Core.Retry;

namespace Relay.Core.Tests.Retry;

public class ImmediateRetryTests
{
    private static readonly TimeSpan Plenty = TimeSpan.FromSeconds(2);

    private static RetryContractOptions Contract(int immediateRetries) => new() { ImmediateRetries = immediateRetries };

    /// <summary>Tries made in one attempt when every try fails with a retryable error and nothing else stops them.</summary>
    private static int TriesUntilStopped(int immediateRetries, int? failureThreshold)
    {
        var tries = 1;
        while (ImmediateRetry.TryAgain(AttemptOutcome.RetryableFailure, null, tries, Contract(immediateRetries), failureThreshold, held: false, Plenty))
        {
            tries++;
        }

        return tries;
    }

    [Property(MaxTest = 500)]
    public Property An_attempt_makes_at_most_one_try_plus_ImmediateRetries() =>
        Prop.ForAll(Gen.Choose(0, 10).ToArbitrary(), n => TriesUntilStopped(n, failureThreshold: null) == 1 + n);

    [Property(MaxTest = 500)]
    public Property The_tries_of_one_attempt_stop_at_the_failures_that_open_the_circuit() =>
        Prop.ForAll(Gen.Choose(0, 10).ToArbitrary(), Gen.Choose(1, 12).ToArbitrary(),
            (n, threshold) => TriesUntilStopped(n, threshold) == Math.Min(1 + n, threshold));

    [Theory]
    [InlineData(AttemptOutcome.Success)]
    [InlineData(AttemptOutcome.NonRetryableFailure)]
    public void Only_a_retryable_failure_is_tried_again_at_once(AttemptOutcome outcome) =>
        Assert.False(ImmediateRetry.TryAgain(outcome, null, 1, Contract(10), null, held: false, Plenty));

    [Fact]
    public void Not_when_the_destination_is_held_asks_to_wait_or_the_attempt_has_no_time_left()
    {
        Assert.True(ImmediateRetry.TryAgain(AttemptOutcome.RetryableFailure, null, 1, Contract(3), null, held: false, Plenty));
        Assert.True(ImmediateRetry.TryAgain(AttemptOutcome.RetryableFailure, TimeSpan.Zero, 1, Contract(3), null, held: false, Plenty));
        Assert.False(ImmediateRetry.TryAgain(AttemptOutcome.RetryableFailure, null, 1, Contract(3), null, held: true, Plenty));
        Assert.False(ImmediateRetry.TryAgain(AttemptOutcome.RetryableFailure, TimeSpan.FromSeconds(1), 1, Contract(3), null, held: false, Plenty));
        Assert.False(ImmediateRetry.TryAgain(AttemptOutcome.RetryableFailure, null, 1, Contract(3), null, held: false, TimeSpan.Zero));
    }

    [Fact]
    public void None_by_default()
    {
        Assert.Equal(0, new RetryContractOptions().ImmediateRetries);
        Assert.Equal(1, TriesUntilStopped(new RetryContractOptions().ImmediateRetries, failureThreshold: null));
    }
}
