using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Placement;
using Orleans.Runtime.Placement;
using Orleans.Runtime;
using Orleans.Storage;
using Relay.Contracts;
using Relay.Core;
using Relay.Core.Delivery;
using Relay.Core.Messages;
using Relay.Core.Options;
using Relay.Core.Storage;
using Relay.Core.Telemetry;
using Relay.Grains.Destinations;

namespace Relay.Grains.Delivery;

/// <summary>
/// One grain per delivery: it loads the delivery, asks its lifecycle (<see cref="DeliveryLifecycle"/>, in Relay.Core)
/// what an event makes of it, writes the new state (one commit per transition; the retry schedule is the
/// <see cref="DeliveryState.DueAt"/> column the retry schedulers poll), then carries out the decision's effects: an
/// attempt (<see cref="DeliveryAttempts"/>), the hand-over of a final notification (<see cref="FinalNotifications"/>),
/// the ordering key's turn and release.
/// </summary>
// Hash-based placement spreads deliveries evenly over the silos (whatever silo the caller is on), so a backlog
// woken by the schedulers is worked by every silo in equal shares. A new message's deliveries are the exception:
// MessageFanOut gives a placement hint, and they are activated on the silo that took the request.
[HashBasedPlacement]
internal sealed partial class DeliveryGrain(
    [FromKeyedServices(RelayStorage.Name)] IGrainStorage storage,
    IOptions<RelayOptions> options,
    DeliveryAttempts attempts,
    FinalNotifications notifications,
    DestinationControl control,
    TimeProvider time,
    ILocalSiloDetails silo,
    IClusterMembershipService membership,
    RelayMetrics metrics,
    ILogger<DeliveryGrain> logger) : Grain, IDeliveryGrain
{
    // Read at each use, never kept: the catalog changes destinations and contracts at runtime (IOptions<RelayOptions>
    // answers its current view), and a delivery in memory must take the next attempt to the current address.
    private RelayOptions _options => options.Value;

    private DeliveryStateHolder? _holder;

    private DeliveryStateHolder Stored => _holder ??= new DeliveryStateHolder(storage, this.GetGrainId());

    private DeliveryState S => Stored.State;

    /// <summary>How an attempt the lifecycle asks for is bounded.</summary>
    private enum Within
    {
        /// <summary>Within a caller's request (a send, a single resubmit): SyncTimeout; without a slot in half of it, handed to the scheduler.</summary>
        Call,
        /// <summary>Woken by a scheduler: the destination's Timeout; without a slot within 5 s, left due for the scheduler to come back.</summary>
        Schedule,
    }

    public async Task<DeliveryView> Accept(DeliveryEnvelope envelope, bool attemptNow)
    {
        // The hint that placed this grain on the silo that took the request (MessageFanOut) stops here: the grains this
        // delivery calls in turn (a notification, its ordering key) are placed as their own placement says.
        RequestContext.Remove(IPlacementDirector.PlacementHintKey);
        if (Stored.Loaded && Stored.RecordExists)
        {
            return Repeated(envelope);
        }

        // Senders name configured destinations only (the validator sees to it); a final notification is owed to the
        // notify destination of the configuration it was sent under, which may since have been removed: the lifecycle
        // stores it parked, to be resubmitted once that destination is configured again.
        if (!envelope.IsNotification)
        {
            GetDestination(envelope.Destination);
        }

        Stored.State = DeliveryState.From(envelope);
        // The contract it is accepted with stays its own (a catalog change applies to new messages).
        S.AcceptedContract = ContractTerms.Of(DeliveryRules.For(_options, S.Destination, S.Contract));
        var decision = Decide(new DeliveryEvent.Accepted(attemptNow, control.IsHeld(envelope.Destination)));
        Apply(decision);

        // Insert first: one transaction checks the id and stores the delivery; a read only when it was refused.
        try
        {
            await Stored.WriteStateAsync();
            S.PendingAudit.Clear();
        }
        catch (InconsistentStateException)
        {
            // Stored before (a repeated send, or a hand-over repeated after a crash): answer what is stored.
            Stored.Forget();
            await Stored.LoadAsync();
            if (Stored.RecordExists)
            {
                var repeated = Repeated(envelope);
                LeaveWhenIdle(justDelivered: false);
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
        if (decision.Audit?.Kind == AuditKind.Parked)
        {
            Log.Parked(logger, S.MessageId, S.Destination, S.Status, S.LastError!);
            return S.ToView();
        }

        await CarryOutAsync(decision with { Effects = decision.Effects & ~DeliveryEffects.Write }, Within.Call);
        LeaveWhenIdle(justDelivered: S.Status == DeliveryStatus.Delivered);
        return S.ToView();
    }

    public async Task Wake()
    {
        await Stored.LoadAsync();
        if (!Stored.RecordExists)
        {
            return;
        }

        var held = control.IsHeld(S.Destination);
        var decision = Decide(new DeliveryEvent.Woken(held));
        if (decision.Has(DeliveryEffects.TakeTurn))
        {
            if (!await IsMyTurnAsync())
            {
                await DecideAsync(new DeliveryEvent.TurnRefused());
                return;
            }

            decision = Decide(new DeliveryEvent.Woken(held, TurnTaken: true));
        }

        Apply(decision);
        if (await StoreAsync(decision))
        {
            await CarryOutAsync(decision, Within.Schedule);
        }
    }

    public async Task Release()
    {
        await Stored.LoadAsync();
        if (Stored.RecordExists)
        {
            await DecideAsync(new DeliveryEvent.Released());
        }
    }

    public async Task Probe()
    {
        var answered = false;
        try
        {
            await Stored.LoadAsync();
            if (Stored.RecordExists && DeliveryLifecycle.MayAttempt(S.ToProgress()))
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

    public async Task<DeliveryView> Resubmit(ResubmitCommand command)
    {
        await Stored.LoadAsync();
        EnsureExists();
        var decision = await TakeAsync(new DeliveryEvent.Resubmitted(command.By, command.Named, command.Payload?.Length, command.Contract,
            command.AttemptNow, control.IsHeld(S.Destination)));
        if (command.Payload is not null)
        {
            S.Payload = command.Payload;
        }

        // A resubmit starts the delivery afresh: under its contract as it is now (or the one the operator named).
        S.AcceptedContract = ContractTerms.Of(DeliveryRules.For(_options, S.Destination, S.Contract));
        if (await StoreAsync(decision))
        {
            Log.Resubmitted(logger, S.MessageId, S.Destination, command.By ?? "anonymous");
            await CarryOutAsync(decision, Within.Call);
        }

        return S.ToView();
    }

    public async Task<DeliveryView> Discard(string? by)
    {
        await Stored.LoadAsync();
        EnsureExists();
        var decision = await TakeAsync(new DeliveryEvent.Discarded(by));
        if (await StoreAsync(decision) && decision.Has(DeliveryEffects.Write))
        {
            Log.Discarded(logger, S.MessageId, S.Destination, by ?? "anonymous");
            await CarryOutAsync(decision, Within.Call);
        }

        return S.ToView();
    }

    public async Task<AcknowledgmentResult> Acknowledge(AcknowledgmentCommand command)
    {
        await Stored.LoadAsync();
        if (!Stored.RecordExists)
        {
            // Never accepted (or removed by retention): nothing is written.
            return AcknowledgmentResult.Unknown;
        }

        // The MessageId of the delivery as it is now: an acknowledgment of the payload before an operator's edit is not one of this.
        if (!string.Equals(Adapters.Ebms.EbmsMessageId.For(S.MessageId, S.Destination, S.Payload), command.EbmsMessageId, StringComparison.Ordinal))
        {
            return AcknowledgmentResult.NotCurrent;
        }

        if (StatusRollup.IsFinal(S.Status))
        {
            // A duplicate, or one after the last deadline: answered, and nothing changes.
            return AcknowledgmentResult.AlreadyFinal;
        }

        var detail = command.Outcome == AttemptOutcome.Success
            ? $"eb:Acknowledgment of {command.EbmsMessageId}"
            : $"eb:ErrorList about {command.EbmsMessageId}: {command.Error}";
        var decision = await TakeAsync(new DeliveryEvent.Acknowledged(command.Outcome, command.Error, command.Body, detail));
        Log.Acknowledged(logger, S.MessageId, S.Destination, command.Outcome, S.Status);
        if (S.Status == DeliveryStatus.DeadLettered)
        {
            Log.DeadLettered(logger, S.MessageId, S.Destination, S.Attempts, S.LastError);
        }

        if (await StoreAsync(decision))
        {
            await CarryOutAsync(decision, Within.Call);
        }

        return AcknowledgmentResult.Completed;
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

    /// <summary>What the lifecycle makes of <paramref name="event"/> in the current state; nothing is applied yet.</summary>
    private DeliveryDecision Decide(DeliveryEvent @event) =>
        DeliveryLifecycle.Decide(S.ToProgress(), @event, Rules(), Now(), Random.Shared.NextDouble());

    /// <summary>The delivery's destination as configured now, and the contract it was accepted with (else the one in force).</summary>
    private DeliveryRules Rules()
    {
        var rules = DeliveryRules.For(_options, S.Destination, S.Contract);
        return S.AcceptedContract is { } accepted ? accepted.Over(rules) : rules;
    }

    /// <summary>Decides, stores and carries out one event.</summary>
    private async Task DecideAsync(DeliveryEvent @event)
    {
        var decision = await TakeAsync(@event);
        if (await StoreAsync(decision))
        {
            await CarryOutAsync(decision, Within.Call);
        }
    }

    /// <summary>
    /// Decides <paramref name="event"/> and takes the decision into the state (not yet written): refused, the caller
    /// gets the refusal and nothing changes; the notification the old state owes is handed over before it is gone.
    /// </summary>
    private async Task<DeliveryDecision> TakeAsync(DeliveryEvent @event)
    {
        var decision = Decide(@event);
        if (decision.Refusal is { } refusal)
        {
            throw new RelayGrainException(refusal);
        }

        if (decision.Has(DeliveryEffects.HandOverNotificationFirst))
        {
            // Under this generation's id, so a hand-over repeated by the scheduler's wake stores it once.
            await notifications.HandOverAsync(S);
        }

        Apply(decision);
        return decision;
    }

    private void Apply(DeliveryDecision decision)
    {
        S.Apply(decision.State);
        if (decision.Audit is { } note)
        {
            S.PendingAudit.Add(S.NextAuditEntry(note.Kind, decision.State.UpdatedAt, silo.Name) with
            {
                Attempt = note.Attempt,
                Outcome = note.Outcome,
                StatusCode = note.StatusCode,
                By = note.By,
                Detail = note.Detail,
            });
        }
    }

    /// <summary>
    /// What a decision asks after its write, in this order: count a completion, hand over what a final status owes,
    /// take a turn of the ordering key, attempt, wake again.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask CarryOutAsync(DeliveryDecision decision, Within within)
    {
        if (decision.Has(DeliveryEffects.Completed))
        {
            // Counted once it is stored: a failed write is attempted again, and counted then.
            metrics.DeliveryCompleted(S.Destination, S.Status);
        }

        if (decision.Has(DeliveryEffects.HandOver))
        {
            await HandOverAsync();
        }

        if (decision.Has(DeliveryEffects.TakeTurn) && !await IsMyTurnAsync())
        {
            await DecideAsync(new DeliveryEvent.TurnRefused());
            return;
        }

        if (decision.Has(DeliveryEffects.Attempt))
        {
            var destination = GetDestination(S.Destination);
            if (within == Within.Schedule)
            {
                // Without a slot of the destination's limits the row stays due: the scheduler comes back.
                await TryAttemptAsync(destination, destination.Timeout, TimeSpan.FromSeconds(5));
            }
            else if (!await TryAttemptAsync(destination, destination.SyncTimeout, destination.SyncTimeout / 2))
            {
                // No slot within half the SyncTimeout: Pending, handed to the scheduler at once.
                await DecideAsync(new DeliveryEvent.AttemptPostponed());
            }
        }

        if (decision.Has(DeliveryEffects.WakeAgain))
        {
            // Attempt after this call returns (the key that released us must not wait for our attempt).
            GrainReferences<IDeliveryGrain>.Get(GrainFactory, this.GetPrimaryKeyString()).Wake().Ignore();
        }
    }

    /// <summary>
    /// Attempts once the destination's limits allow it (<see cref="DeliveryAttempts.WaitForSlotAsync"/>). False
    /// (nothing attempted, nothing counted) when they do not within <paramref name="maxWait"/>.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> TryAttemptAsync(DestinationOptions destination, TimeSpan timeout, TimeSpan maxWait)
    {
        using var slot = await attempts.WaitForSlotAsync(S.Destination, destination, maxWait);
        if (slot is null)
        {
            return false;
        }

        await AttemptAsync(destination, timeout);
        return true;
    }

    /// <summary>One attempt (<see cref="DeliveryAttempts.MakeAsync"/>), then its outcome decided, written and carried out.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<AttemptOutcome> AttemptAsync(DestinationOptions destination, TimeSpan timeout)
    {
        var rules = Rules();
        // A span of the message's trace, retries included.
        using var span = RelayTelemetry.StartAttempt(S.TraceParent, S.MessageId, S.Destination, S.Attempts + 1);
        var result = await attempts.MakeAsync(S, destination, rules.Contract, timeout, span);
        var decision = DeliveryLifecycle.Decide(S.ToProgress(), new DeliveryEvent.AttemptFinished(result), rules, Now(), Random.Shared.NextDouble());
        Apply(decision);
        DeliveryAttempts.Decided(span, S.Status);
        if (S.Status == DeliveryStatus.InRetry)
        {
            Log.WillRetry(logger, S.MessageId, S.Destination, S.Attempts, S.NextAttemptAt!.Value, S.LastError);
        }
        else if (S.Status == DeliveryStatus.AwaitingAcknowledgment)
        {
            Log.AwaitingAcknowledgment(logger, S.MessageId, S.Destination, S.Attempts, S.NextAttemptAt!.Value);
        }
        else if (S.Status == DeliveryStatus.DeadLettered)
        {
            Log.DeadLettered(logger, S.MessageId, S.Destination, S.Attempts, S.LastError);
        }

        if (await StoreAsync(decision))
        {
            await CarryOutAsync(decision, Within.Schedule);
        }

        return result.Outcome;
    }

    /// <summary>
    /// What a final status owes, handed over after the commit that recorded it (outbox flags, each repeated harmlessly
    /// if we die before clearing them): the final notification, and the release of the next of the ordering key.
    /// </summary>
    private async Task HandOverAsync()
    {
        if (S.NotificationPending)
        {
            await notifications.HandOverAsync(S);
        }

        if (S.OrderingReleasePending && await OrderingKey().Complete(S.MessageId) is { } head)
        {
            // Repeated after a crash, this releases the same head again, which is harmless.
            await GrainReferences<IDeliveryGrain>.Get(GrainFactory, new DeliveryKey(S.Destination, head).ToString()).Release();
        }

        await DecideAsync(new DeliveryEvent.HandedOver());
    }

    /// <summary>Whether this delivery may be attempted: it has no ordering key, or it is the head of its key (joining its queue).</summary>
    private async Task<bool> IsMyTurnAsync() =>
        !S.Ordered || await OrderingKey().Enqueue(S.MessageId);

    /// <summary>The queue of this delivery's ordering key: its destination's, its sender's (<see cref="OrderingQueueKey"/>).</summary>
    private Ordering.IOrderingKeyGrain OrderingKey() =>
        GrainFactory.GetGrain<Ordering.IOrderingKeyGrain>(new OrderingQueueKey(S.Destination, S.Sender, S.OrderingKey!).ToString());

    /// <summary>
    /// Writes the state a decision made (when it asks for a write). True when it is stored as decided. A write the
    /// database refuses for its data parks the delivery instead (docs/ARCHITECTURE.md, "Crash safety"), from the same
    /// version (a final status is kept: the lifecycle's WriteRefused), and carries out the parking's effects in place
    /// of the refused decision's: false. Any other failure is an outage: memory and database may now disagree, so the
    /// grain starts again from the database next time.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> StoreAsync(DeliveryDecision decision)
    {
        if (!decision.Has(DeliveryEffects.Write))
        {
            return true;
        }

        string refusal;
        try
        {
            await WriteAsync(decision);
            return true;
        }
        catch (Exception ex) when (ex is not InconsistentStateException && Stored.RecordExists && StorageRefusal.IsRefusal(ex, out refusal))
        {
            // Refused at every wake, a delivery left due would be attempted again and again. (A delivery never stored
            // has nothing to park: its sender gets the error.)
            Log.WriteFailed(logger, ex, S.MessageId, S.Destination);
        }

        var attempt = S.PendingAudit.LastOrDefault(a => a.Kind == AuditKind.Attempt);
        S.DropPendingAudit();
        var parked = Decide(new DeliveryEvent.WriteRefused(refusal,
            attempt is null ? null : new RefusedAttempt(attempt.Attempt, attempt.Outcome, attempt.StatusCode)));
        Apply(parked);
        await WriteAsync(parked, refusalIsOutage: true);
        await CarryOutAsync(parked, Within.Schedule);
        return false;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteAsync(DeliveryDecision decision, bool refusalIsOutage = false)
    {
        try
        {
            await Stored.WriteStateAsync();
            S.PendingAudit.Clear();
        }
        catch (Exception ex) when (refusalIsOutage || ex is InconsistentStateException || !Stored.RecordExists || !StorageRefusal.IsRefusal(ex, out _))
        {
            // The parking write failing too is an outage, as is anything the database did not refuse for its data.
            Log.WriteFailed(logger, ex, S.MessageId, S.Destination);
            DeactivateOnIdle();
            throw;
        }

        if (decision.Audit?.Kind == AuditKind.Parked)
        {
            Log.Parked(logger, S.MessageId, S.Destination, S.Status, S.LastError!);
        }
    }

    /// <summary>
    /// Where an accepted delivery goes once its call is answered. Just delivered by this call: out of memory (nothing more
    /// will happen to it, and a delivery kept for the usual idle lifetime is garbage the GC copies into its older
    /// generations: at a thousand messages a second, 30,000 activations with their payloads). Sends of the same id
    /// queued behind this call are handed by Orleans to the next activation, which answers them from the storage and
    /// stays: it does not leave at once in turn, since Orleans forwards a call at most twice and would refuse the rest.
    /// Not delivered: placed on the silo that took the request, a delivery with more to come moves, once idle, to where
    /// its hash places it (Orleans migration; nothing moves when that is this silo). Left here, it would come back here
    /// even after leaving memory, whenever this silo wakes it (a bulk resubmit, a scheduler): this silo's directory cache
    /// would still name it, and a backlog would not be worked by every silo in fair shares.
    /// </summary>
    private void LeaveWhenIdle(bool justDelivered)
    {
        if (justDelivered)
        {
            DeactivateOnIdle();
        }
        else if (S.Status != DeliveryStatus.Delivered && !OnItsHashSilo())
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

    /// <summary>Times are kept to the millisecond, as the store keeps them, so a stored and a fresh answer agree.</summary>
    private DateTimeOffset Now() => RelayClock.Now(time);

    private static partial class Log
    {
        [LoggerMessage(EventId = 1010, Level = LogLevel.Information, Message = "Message {MessageId} to {Destination}: attempt {Attempt} taken, awaiting its acknowledgment until {Deadline}")]
        public static partial void AwaitingAcknowledgment(ILogger logger, string messageId, string destination, int attempt, DateTimeOffset deadline);

        [LoggerMessage(EventId = 1011, Level = LogLevel.Information, Message = "Message {MessageId} to {Destination}: acknowledgment ({Outcome}) → {Status}")]
        public static partial void Acknowledged(ILogger logger, string messageId, string destination, AttemptOutcome outcome, DeliveryStatus status);

        [LoggerMessage(EventId = 1001, Level = LogLevel.Debug, Message = "Message {MessageId} to {Destination} accepted")]
        public static partial void Accepted(ILogger logger, string messageId, string destination);

        [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Message {MessageId} to {Destination}: attempt {Attempt} failed ({Error}); next attempt at {NextAttemptAt:o}")]
        public static partial void WillRetry(ILogger logger, string messageId, string destination, int attempt, DateTimeOffset nextAttemptAt, string? error);

        [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "Message {MessageId} to {Destination} dead-lettered after {Attempt} attempts: {Error}")]
        public static partial void DeadLettered(ILogger logger, string messageId, string destination, int attempt, string? error);

        [LoggerMessage(EventId = 1005, Level = LogLevel.Error, Message = "Message {MessageId} to {Destination}: storing the delivery failed")]
        public static partial void WriteFailed(ILogger logger, Exception exception, string messageId, string destination);

        [LoggerMessage(EventId = 1009, Level = LogLevel.Error, Message = "Message {MessageId} to {Destination} parked ({Status}): {Reason}")]
        public static partial void Parked(ILogger logger, string messageId, string destination, DeliveryStatus status, string reason);

        [LoggerMessage(EventId = 1006, Level = LogLevel.Information, Message = "Message {MessageId} to {Destination} resubmitted by {By}")]
        public static partial void Resubmitted(ILogger logger, string messageId, string destination, string by);

        [LoggerMessage(EventId = 1007, Level = LogLevel.Information, Message = "Message {MessageId} to {Destination} discarded by {By}")]
        public static partial void Discarded(ILogger logger, string messageId, string destination, string by);
    }
}
