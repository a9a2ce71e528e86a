using System.Runtime.CompilerServices;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Relay.Adapters;
using Relay.Contracts;
using Relay.Core;
using Relay.Core.Delivery;
using Relay.Core.Options;
using Relay.Core.Retry;
using Relay.Core.Storage;
using Relay.Core.Telemetry;
using Relay.Grains.Destinations;

namespace Relay.Grains.Delivery;

/// <summary>
/// How one attempt of a delivery is made: a slot of the destination's limits, the adapter's calls (the first try and
/// the contract's immediate retries), their audit entries, metrics and trace tags, and the circuit breaker's count. What
/// happens after an attempt is <see cref="DeliveryLifecycle"/>'s to decide. One per silo; it keeps nothing of a delivery.
/// </summary>
internal sealed partial class DeliveryAttempts(
    ProtocolAdapters adapters,
    DestinationRateLimiter rateLimiter,
    ConcurrencyLimiter concurrency,
    DestinationControl control,
    TimeProvider time,
    ILocalSiloDetails silo,
    RelayMetrics metrics,
    ILogger<DeliveryAttempts> logger)
{
    /// <summary>
    /// A send slot of the destination's <c>MaxPerSecond</c> and a place among its <c>MaxConcurrency</c> attempts in
    /// flight, to dispose when the attempt (and the write of its outcome) is over; null, nothing taken, when the limits
    /// do not give them within <paramref name="maxWait"/>.
    /// </summary>
    public Task<IDisposable?> WaitForSlotAsync(string name, DestinationOptions destination, TimeSpan maxWait)
    {
        // Without limits (the common case) both answer at once: the limiter's own task is the answer, nothing allocated.
        var entering = concurrency.EnterAsync(name, destination, maxWait);
        if (destination.MaxPerSecond is null && entering.IsCompletedSuccessfully)
        {
            return entering;
        }

        return WaitForRateAsync(entering, name, destination, maxWait);
    }

    private async Task<IDisposable?> WaitForRateAsync(Task<IDisposable?> entering, string name, DestinationOptions destination, TimeSpan maxWait)
    {
        var lease = await entering;
        if (lease is not null && !await rateLimiter.WaitAsync(name, destination, maxWait))
        {
            lease.Dispose();
            return null;
        }

        return lease;
    }

    /// <summary>
    /// One attempt: a window of tries, the first and, after a retryable failure, up to the contract's
    /// <c>ImmediateRetries</c> more at once (<see cref="ImmediateRetry"/>), all within <paramref name="timeout"/> (the
    /// SyncTimeout for the first attempt, so the sender can still be answered Delivered). Each try is audited in
    /// <paramref name="state"/>'s next write; the window counts as one attempt against MaxAttempts, and its last try's
    /// result is answered. (A probe is made while the circuit is open, so it is one try.)
    /// </summary>
    /// <param name="span">The attempt's span (<see cref="RelayTelemetry.StartAttempt"/>), current during the adapter calls so that HttpClient sends its traceparent.</param>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<AttemptResult> MakeAsync(DeliveryState state, DestinationOptions destination, RetryContractOptions contract, TimeSpan timeout, Activity? span)
    {
        var attempt = state.Attempts + 1;
        var window = time.GetTimestamp();
        var tries = 0;
        AttemptResult result;
        TimeSpan left;
        do
        {
            result = await TryAsync(state, destination, attempt, timeout - time.GetElapsedTime(window));
            tries++;
            left = timeout - time.GetElapsedTime(window);
        }
        while (ImmediateRetry.TryAgain(result.Outcome, result.RetryAfter, tries, contract, destination.FailureThreshold, control.IsHeld(state.Destination), left)
               && await rateLimiter.WaitAsync(state.Destination, destination, left));

        if (RelayTelemetry.IsRecorded(span))
        {
            span.SetTag(RelayTelemetry.OutcomeTag, RelayTelemetry.Of(result.Outcome));
            if (result.StatusCode is { } code)
            {
                span.SetTag(RelayTelemetry.StatusCodeTag, code);
            }

            if (result.Outcome != AttemptOutcome.Success)
            {
                span.SetStatus(ActivityStatusCode.Error, result.Error);
            }
        }

        return result;
    }

    /// <summary>Tags the attempt's span with the status its outcome led to.</summary>
    public static void Decided(Activity? span, DeliveryStatus status)
    {
        if (RelayTelemetry.IsRecorded(span))
        {
            span.SetTag(RelayTelemetry.StatusTag, RelayTelemetry.Of(status));
        }
    }

    /// <summary>
    /// One call of the destination's adapter: measured, audited (in the attempt's write, one entry per try) and counted
    /// for the destination's circuit breaker.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<AttemptResult> TryAsync(DeliveryState state, DestinationOptions destination, int attempt, TimeSpan timeout)
    {
        var started = time.GetTimestamp();
        AttemptResult result;
        try
        {
            var message = new OutboundMessage
            {
                MessageId = state.MessageId,
                DestinationName = state.Destination,
                Attempt = attempt,
                Payload = state.Payload,
                ContentType = state.ContentType,
                Headers = state.Headers,
                CorrelationId = state.CorrelationId,
            };
            result = await adapters.Get(destination.Protocol).SendAsync(message, destination, timeout, CancellationToken.None);
        }
        catch (Exception ex)
        {
            // An adapter classifies the destination's failures itself; an exception here is a defect of ours.
            Log.AdapterFailed(logger, ex, state.MessageId, state.Destination);
            result = AttemptResult.Retryable($"Adapter error: {ex.GetType().Name}");
        }

        var elapsed = time.GetElapsedTime(started);
        metrics.AttemptMade(state.Destination, result.Outcome, elapsed);
        if (result.Repeated is { } repeated)
        {
            // A try the adapter repeated at once (a 401 to a renewed OAuth token, docs/AUTH.md): audited, not counted.
            elapsed -= repeated.Duration;
            state.PendingAudit.Add(state.NextAuditEntry(AuditKind.Attempt, RelayClock.Now(time), silo.Name) with
            {
                Attempt = attempt,
                DurationMs = (long)repeated.Duration.TotalMilliseconds,
                Outcome = repeated.Result.Outcome,
                StatusCode = repeated.Result.StatusCode,
                Error = repeated.Result.Error,
                ResponseBody = repeated.Result.Body,
            });
        }

        state.PendingAudit.Add(state.NextAuditEntry(AuditKind.Attempt, RelayClock.Now(time), silo.Name) with
        {
            Attempt = attempt,
            DurationMs = (long)elapsed.TotalMilliseconds,
            Outcome = result.Outcome,
            StatusCode = result.StatusCode,
            Error = result.Error,
            ResponseBody = result.Body,
        });
        control.Record(state.Destination, result.Outcome);
        return result;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1004, Level = LogLevel.Error, Message = "Message {MessageId} to {Destination}: the adapter threw")]
        public static partial void AdapterFailed(ILogger logger, Exception exception, string messageId, string destination);
    }
}
