using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Placement;
using Orleans.Runtime.Placement;
using Orleans.Runtime;
using Orleans.Storage;
using Relay.Adapters;
using Relay.Contracts;
using Relay.Core;
using Relay.Core.Delivery;
using Relay.Core.Messages;
using Relay.Core.Options;
using Relay.Core.Retry;
using Relay.Core.Storage;
using Relay.Core.Telemetry;
using Relay.Grains.Destinations;

namespace Relay.Grains.Delivery;

/// <summary>
/// The heart of Relay: one grain per delivery. It stores the delivery, makes each attempt through the
/// destination's protocol adapter, decides from the retry contract what happens next, and owes the final
/// notification. Every state transition is one write of its state (one commit); the retry schedule is the
/// <see cref="DeliveryState.DueAt"/> column that the retry schedulers poll.
/// </summary>
// Hash-based placement spreads deliveries evenly over the silos (whatever silo the caller is on), so a backlog
// woken by the schedulers is worked by every silo in equal shares. A new message's deliveries are the exception:
// MessageGrain gives a placement hint, and they are activated on the silo that took the request.
[HashBasedPlacement]
internal sealed partial class DeliveryGrain(
    [FromKeyedServices(RelayStorage.Name)] IGrainStorage storage,
    IOptions<RelayOptions> options,
    ProtocolAdapters adapters,
    DestinationRateLimiter rateLimiter,
    ConcurrencyLimiter concurrency,
    DestinationControl control,
    TimeProvider time,
    ILocalSiloDetails silo,
    IClusterMembershipService membership,
    RelayMetrics metrics,
    ILogger<DeliveryGrain> logger) : Grain, IDeliveryGrain
{
    /// <summary>A Wake this early is taken as due: the scheduler and this grain read the same clock, but not at the same instant.</summary>
    private static readonly TimeSpan DueTolerance = TimeSpan.FromMilliseconds(500);

    private readonly RelayOptions _options = options.Value;

    private DeliveryStateHolder? _holder;

    private DeliveryStateHolder Stored => _holder ??= new DeliveryStateHolder(storage, this.GetGrainId());

    private DeliveryState S => Stored.State;

    public async Task<DeliveryView> Accept(DeliveryEnvelope envelope, bool attemptNow)
    {
        // The hint that placed this grain on the silo that took the request (MessageGrain) stops here: the grains this
        // delivery calls in turn (a notification, its ordering key) are placed as their own placement says.
        RequestContext.Remove(IPlacementDirector.PlacementHintKey);
        if (Stored.Loaded && Stored.RecordExists)
        {
            return Repeated(envelope);
        }

        // Senders name configured destinations only (the validator sees to it); a final notification is owed to the
        // notify destination of the configuration it was sent under, which may since have been removed: it is stored
        // parked, to be resubmitted once that destination is configured again.
        var destination = envelope.IsNotification
            ? _options.Destinations.GetValueOrDefault(envelope.Destination)
            : GetDestination(envelope.Destination);
        var now = Now();
        // Paused, or its circuit open: stored and answered Pending at once; the scheduler sends it when released.
        attemptNow &= destination is not null && !control.IsHeld(envelope.Destination);
        Stored.State = NewState(envelope, destination, now, attemptNow);
        if (destination is null)
        {
            Park(NotConfigured(envelope.Destination), attempt: null, keepResponse: true);
        }

        // Insert first: one transaction checks the id and stores the delivery; a read only when it was refused.
        try
        {
            await Stored.WriteStateAsync();
        }
        catch (InconsistentStateException)
        {
            // Stored before (a repeated send, or a hand-over repeated after a crash): answer what is stored.
            Stored.Forget();
            await Stored.LoadAsync();
            if (Stored.RecordExists)
            {
                var repeated = Repeated(envelope);
                MoveToItsSiloWhenIdle();
                return repeated;
            }

            throw;
        }
        catch (MessageIdTakenException)
        {
            Stored.Forget();
            throw IdTaken(envelope.MessageId);
        }
        catch (Exception ex)
        {
            Log.WriteFailed(logger, ex, envelope.MessageId, envelope.Destination);
            Stored.Forget();
            throw;
        }

        Log.Accepted(logger, S.MessageId, S.Destination);
        if (destination is null)
        {
            Log.Parked(logger, S.MessageId, S.Destination, S.LastError!);
            return S.ToView();
        }

        if (!await IsMyTurnAsync())
        {
            await WaitForTurnAsync();
        }
        else if (attemptNow)
        {
            await FirstAttemptAsync(destination);
        }

        MoveToItsSiloWhenIdle();
        return S.ToView();
    }

    /// <summary>
    /// Placed on the silo that took the request: a delivery with more to come moves, once idle, to where its hash places
    /// it (Orleans migration; nothing moves when that is this silo). Left here, it would come back here even after
    /// leaving memory, whenever this silo wakes it (a bulk resubmit, a scheduler): this silo's directory cache would
    /// still name it, and a backlog would not be worked by every silo in fair shares.
    /// </summary>
    private void MoveToItsSiloWhenIdle()
    {
        if (S.Status != DeliveryStatus.Delivered && !OnItsHashSilo())
        {
            this.MigrateOnIdle();
        }
    }

    /// <summary>
    /// Whether this silo is the one hash-based placement names for this grain (Orleans's HashBasedPlacementDirector:
    /// the active silos in order, the grain id's uniform hash modulo their count); always so on a lone silo.
    /// </summary>
    private bool OnItsHashSilo()
    {
        var silos = membership.CurrentSnapshot.Members.Values
            .Where(m => m.Status == SiloStatus.Active)
            .Select(m => m.SiloAddress)
            .Order()
            .ToArray();
        if (silos.Length < 2)
        {
            return true;
        }

        var hash = (int)(this.GetGrainId().GetUniformHashCode() & 0x7fffffff);
        return silos[hash % silos.Length].Equals(silo.SiloAddress);
    }

    /// <summary>A send of a delivery already stored: its state when it is the same content (and sender), else 409.</summary>
    private DeliveryView Repeated(DeliveryEnvelope envelope)
    {
        if (!string.Equals(S.ContentHash, envelope.ContentHash, StringComparison.Ordinal)
            // Another sender's message with this id is not this sender's to see: it is a different message.
            || !string.Equals(S.Sender, envelope.Sender, StringComparison.Ordinal))
        {
            throw IdTaken(envelope.MessageId);
        }

        return S.ToView() with { Repeated = true };
    }

    private static RelayGrainException IdTaken(string messageId) => new(RelayError.Conflict(
        $"A different message was already accepted with id '{messageId}'.",
        "Send new content with a new id; sending the same content again answers its state."));

    private DeliveryState NewState(DeliveryEnvelope envelope, DestinationOptions? destination, DateTimeOffset now, bool attemptNow) => new()
    {
        MessageId = envelope.MessageId,
        Destination = envelope.Destination,
        Topic = envelope.Topic,
        Payload = envelope.Payload,
        ContentType = envelope.ContentType,
        Headers = new Dictionary<string, string>(envelope.Headers, StringComparer.OrdinalIgnoreCase),
        Contract = envelope.Contract,
        Notify = envelope.Notify,
        OrderingKey = envelope.OrderingKey,
        CorrelationId = envelope.CorrelationId,
        ContentHash = envelope.ContentHash,
        AcceptedAt = envelope.AcceptedAt,
        IsNotification = envelope.IsNotification,
        Sender = envelope.Sender,
        TraceParent = envelope.TraceParent,
        Status = DeliveryStatus.Pending,
        NextAttemptAt = now,
        // The crash backstop: if this silo dies during the first attempt, a scheduler attempts it again.
        DueAt = attemptNow ? now + destination!.SyncTimeout + _options.Scheduler.RecoveryGrace : now,
        UpdatedAt = now,
    };

    public async Task Wake()
    {
        await Stored.LoadAsync();
        if (!Stored.RecordExists)
        {
            return;
        }

        if (S.NotificationPending || S.OrderingReleasePending)
        {
            await HandOverAsync();
        }
        else if (S.Status == DeliveryStatus.Pending && S.DueAt is not null && !await IsMyTurnAsync())
        {
            // Accepted behind an earlier message of its ordering key (the silo died before it was set waiting).
            await WaitForTurnAsync();
        }
        else if (S.Status is DeliveryStatus.Pending or DeliveryStatus.InRetry
                 && S.DueAt is { } due && due <= Now() + DueTolerance
                 && !control.IsHeld(S.Destination))
        {
            if (!_options.Destinations.TryGetValue(S.Destination, out var destination))
            {
                // Its destination was removed from the configuration: it could never be attempted, and left due it would
                // come back at every poll. Parked like a dead letter, it waits for the destination to come back.
                await ParkAsync(NotConfigured(S.Destination), attempt: null, keepResponse: true);
                await HandOverAsync();
                return;
            }

            // Without a slot of the destination's limits the row stays due: the scheduler comes back.
            await TryAttemptAsync(destination, destination.Timeout, TimeSpan.FromSeconds(5));
        }
    }

    public async Task Release()
    {
        await Stored.LoadAsync();
        if (Stored.RecordExists && S.Status == DeliveryStatus.Pending && S.DueAt is null)
        {
            S.DueAt = Now();
            S.NextAttemptAt = S.DueAt;
            S.UpdatedAt = S.DueAt.Value;
            await WriteAsync();
            // Attempt after this call returns (the key that released us must not wait for our attempt).
            GrainFactory.GetGrain<IDeliveryGrain>(this.GetPrimaryKeyString()).Wake().Ignore();
        }
    }

    /// <summary>Whether this delivery may be attempted: it has no ordering key, or it is the head of its key.</summary>
    private async Task<bool> IsMyTurnAsync() =>
        S.OrderingKey is null || S.IsNotification || await OrderingKey().Enqueue(S.MessageId);

    /// <summary>Waits, Pending and not scheduled, until the key releases it.</summary>
    private async Task WaitForTurnAsync()
    {
        S.DueAt = null;
        S.NextAttemptAt = null;
        S.UpdatedAt = Now();
        await WriteAsync();
    }

    /// <summary>The queue of this delivery's ordering key: its destination's, its sender's (<see cref="OrderingQueueKey"/>).</summary>
    private Ordering.IOrderingKeyGrain OrderingKey() =>
        GrainFactory.GetGrain<Ordering.IOrderingKeyGrain>(new OrderingQueueKey(S.Destination, S.Sender, S.OrderingKey!).ToString());

    public async Task Probe()
    {
        var answered = false;
        try
        {
            await Stored.LoadAsync();
            if (Stored.RecordExists && S.Status is DeliveryStatus.Pending or DeliveryStatus.InRetry)
            {
                var destination = GetDestination(S.Destination);
                // A final (4xx) answer shows the destination is up as much as a success does.
                answered = await AttemptAsync(destination, destination.Timeout) != AttemptOutcome.RetryableFailure;
            }
        }
        finally
        {
            await control.Grain.ProbeResult(S.Destination, answered);
        }
    }

    /// <summary>
    /// The attempt made within the sender's request. When the destination's rate limit leaves no token within
    /// half the SyncTimeout, the delivery stays Pending and is handed to the scheduler at once.
    /// </summary>
    private async Task FirstAttemptAsync(DestinationOptions destination)
    {
        if (await TryAttemptAsync(destination, destination.SyncTimeout, destination.SyncTimeout / 2))
        {
            return;
        }

        S.DueAt = Now();
        S.UpdatedAt = S.DueAt.Value;
        await WriteAsync();
    }

    public async Task<DeliveryView> Resubmit(ResubmitCommand command)
    {
        await Stored.LoadAsync();
        EnsureExists();
        var allowed = S.Status == DeliveryStatus.DeadLettered || (command.Named && S.Status == DeliveryStatus.InRetry);
        if (!allowed)
        {
            throw new RelayGrainException(RelayError.Conflict(
                $"The delivery of '{S.MessageId}' to '{S.Destination}' is {S.Status} and cannot be resubmitted.",
                S.Status == DeliveryStatus.Delivered
                    ? "A delivered delivery is never sent again."
                    : "Only a dead-lettered delivery (or an in-retry one named explicitly) can be resubmitted."));
        }

        var destination = GetDestination(S.Destination);
        if (S.NotificationPending)
        {
            // The final notification of the status ending now is owed and not handed over yet (its hand-over failed, or
            // this silo died before it): hand it over before this status is gone, or it would never be sent. Under this
            // generation's id, so a hand-over repeated by the scheduler's wake stores it once.
            await HandOverNotificationAsync();
        }

        var now = Now();
        var edits = new List<string>();
        if (command.Payload is not null)
        {
            S.Payload = command.Payload;
            edits.Add($"payload edited ({command.Payload.Length} bytes)");
        }

        if (command.Contract is not null && command.Contract != S.Contract)
        {
            edits.Add($"contract {_options.ContractNameFor(S.Destination, S.Contract)} → {command.Contract}");
            S.Contract = command.Contract;
        }

        AddAudit(AuditKind.Resubmitted, now, entry => entry with
        {
            By = command.By,
            Detail = edits.Count == 0 ? $"resubmitted after {S.Attempts} attempts" : string.Join("; ", edits),
        });
        S.Generation++;
        S.Status = DeliveryStatus.Pending;
        S.Attempts = 0;
        S.WasInRetry = false;
        S.NotificationPending = false;
        S.LastError = null;
        S.ResponseStatusCode = null;
        S.ResponseHeaders = null;
        S.ResponseBody = null;
        S.CompletedAt = null;
        S.NextAttemptAt = now;
        S.DueAt = command.AttemptNow && !control.IsHeld(S.Destination) ? now + destination.SyncTimeout + _options.Scheduler.RecoveryGrace : now;
        S.UpdatedAt = now;
        await WriteAsync();
        Log.Resubmitted(logger, S.MessageId, S.Destination, command.By ?? "anonymous");

        // Not when the write above was refused and the delivery parked instead.
        if (command.AttemptNow && !control.IsHeld(S.Destination) && S.Status == DeliveryStatus.Pending)
        {
            await FirstAttemptAsync(destination);
        }

        return S.ToView();
    }

    public async Task<DeliveryContent?> GetContent()
    {
        await Stored.LoadAsync();
        return Stored.RecordExists ? new DeliveryContent
        {
            Payload = S.Payload,
            ContentType = S.ContentType,
            Headers = new Dictionary<string, string>(S.Headers, StringComparer.OrdinalIgnoreCase),
            Contract = S.Contract,
        }
        : null;
    }

    public async Task<DeliveryView> Discard(string? by)
    {
        await Stored.LoadAsync();
        EnsureExists();
        if (S.Status == DeliveryStatus.Discarded)
        {
            return S.ToView();
        }

        if (S.Status != DeliveryStatus.DeadLettered)
        {
            throw new RelayGrainException(RelayError.Conflict(
                $"The delivery of '{S.MessageId}' to '{S.Destination}' is {S.Status}; only a dead-lettered delivery can be discarded."));
        }

        var now = Now();
        AddAudit(AuditKind.Discarded, now, entry => entry with { By = by });
        S.Status = DeliveryStatus.Discarded;
        S.DueAt = null;
        S.NextAttemptAt = null;
        S.UpdatedAt = now;
        // A discarded head releases the next of its ordering key.
        OweOrderingRelease(now);
        await WriteAsync();
        metrics.DeliveryCompleted(S.Destination, DeliveryStatus.Discarded);
        Log.Discarded(logger, S.MessageId, S.Destination, by ?? "anonymous");
        await HandOverAsync();
        return S.ToView();
    }

    /// <summary>
    /// Attempts once the destination's limits allow it: a send slot of its <c>MaxPerSecond</c> and a place among its
    /// <c>MaxConcurrency</c> attempts in flight. False (nothing attempted, nothing counted) when they do not within
    /// <paramref name="maxWait"/>.
    /// </summary>
    private async Task<bool> TryAttemptAsync(DestinationOptions destination, TimeSpan timeout, TimeSpan maxWait)
    {
        using var lease = await concurrency.EnterAsync(S.Destination, destination, maxWait);
        if (lease is null || !await rateLimiter.WaitAsync(S.Destination, destination, maxWait))
        {
            return false;
        }

        await AttemptAsync(destination, timeout);
        return true;
    }

    /// <summary>
    /// One attempt: a window of tries, the first and, after a retryable failure, up to the contract's
    /// <c>ImmediateRetries</c> more at once (<see cref="ImmediateRetry"/>), all within <paramref name="timeout"/> (the
    /// SyncTimeout for the first attempt, so the sender can still be answered Delivered). Each try is audited; the
    /// window counts as one attempt against MaxAttempts, and its last try decides what happens next. (A probe is made
    /// while the circuit is open, so it is one try.)
    /// </summary>
    private async Task<AttemptOutcome> AttemptAsync(DestinationOptions destination, TimeSpan timeout)
    {
        var attempt = S.Attempts + 1;
        var contract = _options.GetContract(_options.ContractNameFor(S.Destination, S.Contract));
        // A span of the message's trace, retries included; current during the adapter calls, so that HttpClient
        // sends its traceparent to the destination.
        using var span = RelayTelemetry.StartAttempt(S.TraceParent, S.MessageId, S.Destination, attempt);
        var window = time.GetTimestamp();
        var tries = 0;
        AttemptResult result;
        TimeSpan left;
        do
        {
            result = await TryAsync(destination, attempt, timeout - time.GetElapsedTime(window));
            tries++;
            left = timeout - time.GetElapsedTime(window);
        }
        while (ImmediateRetry.TryAgain(result.Outcome, result.RetryAfter, tries, contract, destination.FailureThreshold, control.IsHeld(S.Destination), left)
               && await rateLimiter.WaitAsync(S.Destination, destination, left));

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

        var now = Now();
        S.Attempts = attempt;
        S.UpdatedAt = now;
        S.ResponseStatusCode = result.StatusCode;
        S.ResponseHeaders = result.Headers is null ? null : new Dictionary<string, string>(result.Headers, StringComparer.OrdinalIgnoreCase);
        S.ResponseBody = result.Body;
        switch (result.Outcome)
        {
            case AttemptOutcome.Success:
                S.Status = DeliveryStatus.Delivered;
                S.LastError = null;
                break;
            case AttemptOutcome.RetryableFailure:
                var delay = RetrySchedule.NextDelay(attempt, contract, Random.Shared.NextDouble(), result.RetryAfter);
                S.LastError = result.Error;
                if (delay is { } d)
                {
                    S.Status = DeliveryStatus.InRetry;
                    S.WasInRetry = true;
                    S.NextAttemptAt = now + d;
                    S.DueAt = S.NextAttemptAt;
                    Log.WillRetry(logger, S.MessageId, S.Destination, attempt, S.NextAttemptAt.Value, result.Error);
                }
                else
                {
                    S.Status = DeliveryStatus.DeadLettered;
                    Log.DeadLettered(logger, S.MessageId, S.Destination, attempt, result.Error);
                }

                break;
            default:
                S.Status = DeliveryStatus.DeadLettered;
                S.LastError = result.Error;
                Log.DeadLettered(logger, S.MessageId, S.Destination, attempt, result.Error);
                break;
        }

        if (RelayTelemetry.IsRecorded(span))
        {
            span.SetTag(RelayTelemetry.StatusTag, RelayTelemetry.Of(S.Status));
        }

        var final = StatusRollup.IsFinal(S.Status);
        if (final)
        {
            S.CompletedAt = now;
            S.NextAttemptAt = null;
            S.DueAt = null;
            if (OwesNotification(destination))
            {
                S.NotificationPending = true;
                // Outbox: if we die before handing the notification over, a scheduler wakes us to do it.
                S.DueAt = now + _options.Scheduler.RecoveryGrace;
            }

            // Delivered: the next of its ordering key may go. (A dead-lettered head holds the rest back.)
            if (S.Status == DeliveryStatus.Delivered)
            {
                OweOrderingRelease(now);
            }
        }

        await WriteAsync();
        if (final)
        {
            // Counted once it is stored: a failed write is attempted again, and counted then.
            metrics.DeliveryCompleted(S.Destination, S.Status);
        }

        await HandOverAsync();

        return result.Outcome;
    }

    /// <summary>
    /// One call of the destination's adapter: measured, audited (in the attempt's write, one entry per try) and counted
    /// for the destination's circuit breaker.
    /// </summary>
    private async Task<AttemptResult> TryAsync(DestinationOptions destination, int attempt, TimeSpan timeout)
    {
        var started = time.GetTimestamp();
        AttemptResult result;
        try
        {
            var message = new OutboundMessage
            {
                MessageId = S.MessageId,
                DestinationName = S.Destination,
                Attempt = attempt,
                Payload = S.Payload,
                ContentType = S.ContentType,
                Headers = S.Headers,
                CorrelationId = S.CorrelationId,
            };
            result = await adapters.Get(destination.Protocol).SendAsync(message, destination, timeout, CancellationToken.None);
        }
        catch (Exception ex)
        {
            // An adapter classifies the destination's failures itself; an exception here is a defect of ours.
            Log.AdapterFailed(logger, ex, S.MessageId, S.Destination);
            result = AttemptResult.Retryable($"Adapter error: {ex.GetType().Name}");
        }

        var elapsed = time.GetElapsedTime(started);
        metrics.AttemptMade(S.Destination, result.Outcome, elapsed);
        AddAudit(AuditKind.Attempt, Now(), entry => entry with
        {
            Attempt = attempt,
            DurationMs = (long)elapsed.TotalMilliseconds,
            Outcome = result.Outcome,
            StatusCode = result.StatusCode,
            Error = result.Error,
            ResponseBody = result.Body,
        });
        control.Record(S.Destination, result.Outcome);
        return result;
    }

    /// <summary>Whether the final status owes a notification; <paramref name="destination"/> is null when it is no longer configured.</summary>
    private bool OwesNotification(DestinationOptions? destination) =>
        S.Notify is not null && !S.IsNotification && (S.WasInRetry || destination?.NotifyOn == NotifyOn.Always);

    /// <summary>
    /// Stores the final notification as a delivery of its own (with its own retries). The notification's id is derived from this delivery and its generation, so handing it
    /// over twice (after a crash between the two writes) stores it once.
    /// </summary>
    private async Task HandOverNotificationAsync()
    {
        var notify = S.Notify!;
        var payload = JsonSerializer.SerializeToUtf8Bytes(new FinalNotification
        {
            Id = S.MessageId,
            Destination = S.Destination,
            Status = S.Status.ToString(),
            Attempts = S.Attempts,
            CompletedAt = S.CompletedAt,
            Response = S.ResponseStatusCode is { } code ? new FinalNotificationResponse { StatusCode = code } : null,
            LastError = S.LastError,
            CorrelationId = S.CorrelationId,
        }, FinalNotificationJson.Default.FinalNotification);
        var id = NotificationId(S.Destination, S.Generation, S.MessageId);
        var envelope = new DeliveryEnvelope
        {
            MessageId = id,
            Destination = notify,
            Payload = payload,
            ContentType = "application/json",
            Headers = [],
            CorrelationId = S.CorrelationId,
            ContentHash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(payload)),
            AcceptedAt = S.CompletedAt ?? Now(),
            IsNotification = true,
            // The notification's attempts are spans of the message's trace too.
            TraceParent = S.TraceParent,
        };
        var grain = GrainFactory.GetGrain<IDeliveryGrain>(new DeliveryKey(notify, id).ToString());
        await grain.Accept(envelope, attemptNow: false);
        grain.Wake().Ignore();
        Log.NotificationQueued(logger, S.MessageId, S.Destination, notify);
        S.NotificationPending = false;
    }

    private void OweOrderingRelease(DateTimeOffset now)
    {
        if (S.OrderingKey is not null && !S.IsNotification)
        {
            S.OrderingReleasePending = true;
            S.DueAt = now + _options.Scheduler.RecoveryGrace;
        }
    }

    /// <summary>
    /// What a final status owes, handed over after the commit that recorded it (outbox flags, each repeated harmlessly
    /// if we die before clearing them): the final notification, and the release of the next of the ordering key.
    /// </summary>
    private async Task HandOverAsync()
    {
        if (!S.NotificationPending && !S.OrderingReleasePending)
        {
            return;
        }

        if (S.NotificationPending)
        {
            await HandOverNotificationAsync();
        }

        if (S.OrderingReleasePending)
        {
            // Repeated after a crash, this releases the same head again, which is harmless.
            if (await OrderingKey().Complete(S.MessageId) is { } head)
            {
                await GrainFactory.GetGrain<IDeliveryGrain>(new DeliveryKey(S.Destination, head).ToString()).Release();
            }

            S.OrderingReleasePending = false;
        }

        S.DueAt = null;
        S.UpdatedAt = Now();
        await WriteAsync();
    }

    /// <summary>Ids starting with '~' are refused from senders, so these never collide with theirs.</summary>
    internal static string NotificationId(string destination, int generation, string messageId) =>
        $"~notify:{destination}:{generation}:{messageId}";

    /// <summary>Adds an audit entry to the next state write (same commit), numbered in this delivery's sequence.</summary>
    private void AddAudit(AuditKind kind, DateTimeOffset at, Func<AuditEntry, AuditEntry> details) =>
        S.PendingAudit.Add(details(new AuditEntry
        {
            MessageId = S.MessageId,
            Destination = S.Destination,
            Sequence = ++S.AuditSequence,
            Kind = kind,
            At = at,
            Silo = SiloName,
        }));

    private async Task WriteAsync()
    {
        string refusal;
        try
        {
            await Stored.WriteStateAsync();
            S.PendingAudit.Clear();
            return;
        }
        catch (Exception ex) when (ex is not InconsistentStateException && Stored.RecordExists && StorageRefusal.IsRefusal(ex, out refusal))
        {
            // The database refused this state for its data: it would refuse it at every wake, and a delivery left
            // due would be attempted again and again. (A delivery never stored has nothing to park: its sender gets the error.)
            Log.WriteFailed(logger, ex, S.MessageId, S.Destination);
        }
        catch (Exception ex)
        {
            // Memory and database may now disagree: start again from the database next time.
            Log.WriteFailed(logger, ex, S.MessageId, S.Destination);
            DeactivateOnIdle();
            throw;
        }

        var attempt = S.PendingAudit.LastOrDefault(a => a.Kind == AuditKind.Attempt);
        var what = attempt is null
            ? $"The delivery's state ({S.Status}) could not be stored"
            : $"The outcome of attempt {attempt.Attempt} ({attempt.Outcome}{(attempt.StatusCode is { } code ? $" {code}" : "")}) could not be stored";
        // Its response goes too: it may be what the database refused.
        await ParkAsync($"{what}: the database refused it ({refusal}). Parked; resubmit it once the cause is mended.", attempt, keepResponse: false);
    }

    private static string NotConfigured(string destination) =>
        $"Destination '{destination}' is no longer configured. Parked; resubmit it once the destination is configured again.";

    /// <summary>
    /// Parks a delivery that cannot go on (docs/ARCHITECTURE.md, "Parked deliveries"): the database refused its state,
    /// or its destination is no longer configured. Writes the least state that says so (<see cref="Park"/>) from the
    /// same version as the state it replaces. If that write fails, it is an outage: as for any failed write, the grain
    /// starts again from the database next time.
    /// </summary>
    private async Task ParkAsync(string reason, AuditEntry? attempt, bool keepResponse)
    {
        Park(reason, attempt, keepResponse);
        try
        {
            await Stored.WriteStateAsync();
            S.PendingAudit.Clear();
        }
        catch (Exception ex)
        {
            Log.WriteFailed(logger, ex, S.MessageId, S.Destination);
            DeactivateOnIdle();
            throw;
        }

        Log.Parked(logger, S.MessageId, S.Destination, reason);
    }

    /// <summary>
    /// The parked state, to be written: DeadLettered, not due, the reason in LastError, a Parked audit entry in place of
    /// any not yet stored (refused with the state, or about an attempt that is not recorded); without its last response
    /// unless <paramref name="keepResponse"/>. Resubmittable like any dead letter; it holds its ordering key back and owes
    /// its final notification as a dead letter would.
    /// </summary>
    private void Park(string reason, AuditEntry? attempt, bool keepResponse)
    {
        var now = Now();
        S.AuditSequence -= S.PendingAudit.Count;
        S.PendingAudit.Clear();
        S.Status = DeliveryStatus.DeadLettered;
        S.LastError = reason;
        if (!keepResponse)
        {
            S.ResponseHeaders = null;
            S.ResponseBody = null;
        }

        S.NextAttemptAt = null;
        S.CompletedAt = now;
        S.UpdatedAt = now;
        S.OrderingReleasePending = false;
        S.NotificationPending = OwesNotification(_options.Destinations.GetValueOrDefault(S.Destination));
        S.DueAt = S.NotificationPending ? now + _options.Scheduler.RecoveryGrace : null;
        AddAudit(AuditKind.Parked, now, entry => entry with
        {
            Attempt = attempt?.Attempt ?? S.Attempts,
            Outcome = attempt?.Outcome,
            StatusCode = attempt?.StatusCode,
            Detail = reason,
        });
    }

    private DestinationOptions GetDestination(string name) =>
        _options.Destinations.TryGetValue(name, out var destination)
            ? destination
            : throw new RelayGrainException(RelayError.Conflict($"Destination '{name}' is no longer configured."));

    private void EnsureExists()
    {
        if (!Stored.RecordExists)
        {
            throw new RelayGrainException(RelayError.NotFound($"No delivery '{this.GetPrimaryKeyString()}'."));
        }
    }

    private string SiloName => silo.Name;

    /// <summary>Times are kept to the millisecond, as the store keeps them, so a stored and a fresh answer agree.</summary>
    private DateTimeOffset Now() => RelayClock.Now(time);

    private static partial class Log
    {
        [LoggerMessage(EventId = 1001, Level = LogLevel.Debug, Message = "Message {MessageId} to {Destination} accepted")]
        public static partial void Accepted(ILogger logger, string messageId, string destination);

        [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Message {MessageId} to {Destination}: attempt {Attempt} failed ({Error}); next attempt at {NextAttemptAt:o}")]
        public static partial void WillRetry(ILogger logger, string messageId, string destination, int attempt, DateTimeOffset nextAttemptAt, string? error);

        [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "Message {MessageId} to {Destination} dead-lettered after {Attempt} attempts: {Error}")]
        public static partial void DeadLettered(ILogger logger, string messageId, string destination, int attempt, string? error);

        [LoggerMessage(EventId = 1004, Level = LogLevel.Error, Message = "Message {MessageId} to {Destination}: the adapter threw")]
        public static partial void AdapterFailed(ILogger logger, Exception exception, string messageId, string destination);

        [LoggerMessage(EventId = 1005, Level = LogLevel.Error, Message = "Message {MessageId} to {Destination}: storing the delivery failed")]
        public static partial void WriteFailed(ILogger logger, Exception exception, string messageId, string destination);

        [LoggerMessage(EventId = 1009, Level = LogLevel.Error, Message = "Message {MessageId} to {Destination} parked (dead-lettered): {Reason}")]
        public static partial void Parked(ILogger logger, string messageId, string destination, string reason);

        [LoggerMessage(EventId = 1006, Level = LogLevel.Information, Message = "Message {MessageId} to {Destination} resubmitted by {By}")]
        public static partial void Resubmitted(ILogger logger, string messageId, string destination, string by);

        [LoggerMessage(EventId = 1007, Level = LogLevel.Information, Message = "Message {MessageId} to {Destination} discarded by {By}")]
        public static partial void Discarded(ILogger logger, string messageId, string destination, string by);

        [LoggerMessage(EventId = 1008, Level = LogLevel.Debug, Message = "Message {MessageId} to {Destination}: final notification queued for {Notify}")]
        public static partial void NotificationQueued(ILogger logger, string messageId, string destination, string notify);
    }
}

/// <summary>The JSON a notify destination receives (docs/API.md, "The final notification").</summary>
internal sealed class FinalNotification
{
    public required string Id { get; init; }
    public required string Destination { get; init; }
    public required string Status { get; init; }
    public int Attempts { get; init; }
    public DateTimeOffset? CompletedAt { get; init; }
    public FinalNotificationResponse? Response { get; init; }
    public string? LastError { get; init; }
    public string? CorrelationId { get; init; }
}

internal sealed class FinalNotificationResponse
{
    public int StatusCode { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(FinalNotification))]
internal sealed partial class FinalNotificationJson : JsonSerializerContext;
