using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Relay.Contracts;
using Relay.Core.Messages;
using Relay.Core.Options;
using Relay.Core.Storage;
using Relay.Grains.Delivery;

namespace Relay.Grains.Operations;

/// <summary>
/// A bulk resubmit or discard as a background job (see <see cref="IBulkOperationGrain"/>). Each step reads the next
/// page of the filter after the stored cursor (destination, message id), acts on each delivery, then stores the new
/// cursor and counts: one walk of the whole filter, so a delivery that is resubmitted and dead-lettered again at once
/// is behind the cursor and is not met again, and every delivery ahead of it is met once. A reminder brings the
/// operation back after a silo restart; it then goes on from its stored cursor (the step that was under way when the
/// silo died is done again: a delivery of that step may be resubmitted twice, at most one page of them).
/// </summary>
/// <remarks>
/// Steps run on a grain timer, not interleaved with calls (a cancel lands between two steps), and everything of a step
/// runs on the activation's one-at-a-time scheduler, so its counters need no locks. Pacing
/// (<see cref="OperationOptions.MaxPerSecond"/>) is the wait before the next step.
/// </remarks>
internal sealed partial class BulkOperationGrain(
    [PersistentState("operation", RelayStorage.ControlName)] IPersistentState<BulkOperationState> state,
    IRelayStore store,
    IOptions<RelayOptions> options,
    TimeProvider time,
    ILogger<BulkOperationGrain> logger) : Grain, IBulkOperationGrain, IRemindable
{
    internal const string ReminderName = "bulk-operation";
    private static readonly TimeSpan ReminderPeriod = TimeSpan.FromMinutes(1);

    /// <summary>Steps that fail in a row (nothing could be read or done) before the operation is marked Failed.</summary>
    internal const int MaxFailedSteps = 10;

    private const int MaxParallel = 32;
    private IGrainTimer? _step;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.Status == BulkOperationStatus.Running)
        {
            Log.Resumed(logger, this.GetPrimaryKeyString(), state.State.Done, state.State.Total);
            ScheduleStep(TimeSpan.Zero);
        }

        return Task.CompletedTask;
    }

    public async Task<BulkOperationView> Start(BulkOperationRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (state.State.Status != BulkOperationStatus.None)
        {
            return View();
        }

        var now = time.GetUtcNow();
        var total = await store.CountDeliveriesAsync(request.Filter.ToDeliveryFilter());
        state.State = new BulkOperationState
        {
            Action = request.Action,
            Filter = request.Filter,
            By = request.By,
            Status = BulkOperationStatus.Running,
            Total = total,
            CreatedAt = now,
            UpdatedAt = now,
        };
        // The reminder before the state: a state that says Running always has a reminder to bring it back.
        await this.RegisterOrUpdateReminder(ReminderName, ReminderPeriod, ReminderPeriod);
        await state.WriteStateAsync();
        await GrainFactory.GetGrain<IBulkOperationIndexGrain>(0).Add(this.GetPrimaryKeyString());
        Log.Started(logger, this.GetPrimaryKeyString(), request.Action, total, request.By);
        ScheduleStep(TimeSpan.Zero);
        return View();
    }

    public Task<BulkOperationView?> Get() =>
        Task.FromResult(state.State.Status == BulkOperationStatus.None ? null : View());

    public async Task<BulkOperationView?> Cancel(string? by)
    {
        if (state.State.Status == BulkOperationStatus.None)
        {
            return null;
        }

        if (state.State.Status == BulkOperationStatus.Running)
        {
            state.State.CancelledBy = by;
            await EndAsync(BulkOperationStatus.Cancelled, error: null);
            Log.Cancelled(logger, this.GetPrimaryKeyString(), state.State.Done, state.State.Total, by);
        }

        return View();
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (state.State.Status != BulkOperationStatus.Running)
        {
            // Ended, but the reminder outlived it (a silo died between the two writes).
            await UnregisterReminderAsync();
        }

        // Running: the activation (OnActivateAsync) scheduled the next step.
    }

    private void ScheduleStep(TimeSpan dueTime)
    {
        if (_step is null)
        {
            _step = this.RegisterGrainTimer(StepAsync, new GrainTimerCreationOptions(dueTime, Timeout.InfiniteTimeSpan) { KeepAlive = true });
        }
        else
        {
            _step.Change(dueTime, Timeout.InfiniteTimeSpan);
        }
    }

    private async Task StepAsync(CancellationToken cancellationToken)
    {
        var operation = state.State;
        if (operation.Status != BulkOperationStatus.Running)
        {
            return;
        }

        var started = time.GetTimestamp();
        var settings = options.Value.Operations;
        var after = operation.AfterDestination is { } destination && operation.AfterMessageId is { } messageId
            ? new DeliveryKey(destination, messageId)
            : (DeliveryKey?)null;
        IReadOnlyList<DeliveryKey> page;
        try
        {
            page = await store.FindDeliveriesAsync(operation.Filter.ToDeliveryFilter(), after, settings.PageSize, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.StepFailed(logger, ex, this.GetPrimaryKeyString());
            await StepFailedAsync(ex);
            return;
        }

        if (page.Count == 0)
        {
            await EndAsync(BulkOperationStatus.Completed, error: null);
            Log.Completed(logger, this.GetPrimaryKeyString(), operation.Done, operation.Skipped, operation.Failed);
            return;
        }

        var (done, skipped, failed, lastError) = await ActAsync(page, operation, cancellationToken);
        if (failed == page.Count)
        {
            // Nothing could be done (the database or the cluster is in trouble): the same page again, later.
            await StepFailedAsync(lastError);
            return;
        }

        operation.Done += done;
        operation.Skipped += skipped;
        operation.Failed += failed;
        operation.FailedSteps = 0;
        operation.AfterDestination = page[^1].Destination;
        operation.AfterMessageId = page[^1].MessageId;
        operation.UpdatedAt = time.GetUtcNow();
        if (page.Count < settings.PageSize)
        {
            // A short page is the end of the filter: no need to read an empty one.
            await EndAsync(BulkOperationStatus.Completed, error: null);
            Log.Completed(logger, this.GetPrimaryKeyString(), operation.Done, operation.Skipped, operation.Failed);
            return;
        }

        await state.WriteStateAsync();
        var wait = settings.MaxPerSecond > 0
            ? TimeSpan.FromSeconds((double)page.Count / settings.MaxPerSecond) - time.GetElapsedTime(started)
            : TimeSpan.Zero;
        ScheduleStep(wait > TimeSpan.Zero ? wait : TimeSpan.Zero);
    }

    private async Task<(int Done, int Skipped, int Failed, Exception? LastError)> ActAsync(IReadOnlyList<DeliveryKey> page,
        BulkOperationState operation, CancellationToken cancellationToken)
    {
        int done = 0, skipped = 0, failed = 0;
        Exception? lastError = null;
        // InRetry ones are named by the filter explicitly: "retry now", as ServicePulse's retry-all.
        var resubmit = new ResubmitCommand { By = operation.By, AttemptNow = false, Named = operation.Filter.Status == DeliveryStatus.InRetry };
        // Not Parallel.ForEachAsync: its bodies run on the thread pool, outside this activation, where a grain may not
        // call out. These run on the activation's scheduler, at most MaxParallel calls in flight.
        using var gate = new SemaphoreSlim(MaxParallel);
        await Task.WhenAll(page.Select(async key =>
        {
            await gate.WaitAsync(cancellationToken);
            try
            {
                var delivery = GrainReferences<IDeliveryGrain>.Get(GrainFactory, key.ToString());
                if (operation.Action == BulkAction.Discard)
                {
                    await delivery.Discard(operation.By);
                }
                else
                {
                    await delivery.Resubmit(resubmit);
                }

                done++;
            }
            catch (RelayGrainException)
            {
                // It moved on since the page was read (resubmitted, delivered or discarded meanwhile).
                skipped++;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.ActionFailed(logger, ex, this.GetPrimaryKeyString(), key.MessageId, key.Destination);
                lastError = ex;
                failed++;
            }
            finally
            {
                gate.Release();
            }
        }));
        return (done, skipped, failed, lastError);
    }

    private async Task StepFailedAsync(Exception? error)
    {
        var operation = state.State;
        operation.FailedSteps++;
        operation.UpdatedAt = time.GetUtcNow();
        if (operation.FailedSteps >= MaxFailedSteps)
        {
            await EndAsync(BulkOperationStatus.Failed, $"{MaxFailedSteps} steps in a row failed; the last: {error?.GetType().Name}: {error?.Message}");
            Log.Failed(logger, this.GetPrimaryKeyString(), operation.Done, operation.Total);
            return;
        }

        try
        {
            await state.WriteStateAsync();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The database is down: the count of failed steps lives on in memory, and the reminder outlives the silo.
            Log.StepFailed(logger, ex, this.GetPrimaryKeyString());
        }

        ScheduleStep(TimeSpan.FromSeconds(Math.Min(30, 1 << Math.Min(operation.FailedSteps, 5))));
    }

    private async Task EndAsync(BulkOperationStatus status, string? error)
    {
        var now = time.GetUtcNow();
        state.State.Status = status;
        state.State.Error = error;
        state.State.UpdatedAt = now;
        state.State.CompletedAt = now;
        await state.WriteStateAsync();
        _step?.Dispose();
        _step = null;
        await UnregisterReminderAsync();
    }

    private async Task UnregisterReminderAsync()
    {
        var reminder = await this.GetReminder(ReminderName);
        if (reminder is not null)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    private BulkOperationView View()
    {
        var s = state.State;
        return new BulkOperationView
        {
            Id = this.GetPrimaryKeyString(),
            Action = s.Action,
            Filter = s.Filter,
            Status = s.Status,
            Total = s.Total,
            Done = s.Done,
            Skipped = s.Skipped,
            Failed = s.Failed,
            By = s.By,
            CreatedAt = s.CreatedAt,
            UpdatedAt = s.UpdatedAt,
            CompletedAt = s.CompletedAt,
            CancelledBy = s.CancelledBy,
            Error = s.Error,
        };
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1301, Level = LogLevel.Information, Message = "Bulk operation {Id}: {Action} of {Total} deliveries started by {By}")]
        public static partial void Started(ILogger logger, string id, BulkAction action, long total, string? by);

        [LoggerMessage(EventId = 1302, Level = LogLevel.Information, Message = "Bulk operation {Id} completed: {Done} done, {Skipped} skipped, {Failed} failed")]
        public static partial void Completed(ILogger logger, string id, long done, long skipped, long failed);

        [LoggerMessage(EventId = 1303, Level = LogLevel.Information, Message = "Bulk operation {Id} cancelled by {By} after {Done} of {Total}")]
        public static partial void Cancelled(ILogger logger, string id, long done, long total, string? by);

        [LoggerMessage(EventId = 1304, Level = LogLevel.Information, Message = "Bulk operation {Id} goes on after a restart, from {Done} of {Total}")]
        public static partial void Resumed(ILogger logger, string id, long done, long total);

        [LoggerMessage(EventId = 1305, Level = LogLevel.Warning, Message = "Bulk operation {Id}: a step failed; it is tried again")]
        public static partial void StepFailed(ILogger logger, Exception exception, string id);

        [LoggerMessage(EventId = 1306, Level = LogLevel.Warning, Message = "Bulk operation {Id}: message {MessageId} to {Destination} could not be acted on")]
        public static partial void ActionFailed(ILogger logger, Exception exception, string id, string messageId, string destination);

        [LoggerMessage(EventId = 1307, Level = LogLevel.Error, Message = "Bulk operation {Id} failed after {Done} of {Total}")]
        public static partial void Failed(ILogger logger, string id, long done, long total);
    }
}

/// <summary>The stored state of a bulk operation.</summary>
[GenerateSerializer]
public sealed class BulkOperationState
{
    [Id(0)] public BulkAction Action { get; set; }
    [Id(1)] public BulkFilter Filter { get; set; } = new();
    [Id(2)] public string? By { get; set; }
    [Id(3)] public BulkOperationStatus Status { get; set; }
    [Id(4)] public long Total { get; set; }
    [Id(5)] public long Done { get; set; }
    [Id(6)] public long Skipped { get; set; }
    [Id(7)] public long Failed { get; set; }
    /// <summary>The cursor: the last delivery walked (destination, message id); null before the first step.</summary>
    [Id(8)] public string? AfterDestination { get; set; }
    [Id(9)] public string? AfterMessageId { get; set; }
    [Id(10)] public DateTimeOffset CreatedAt { get; set; }
    [Id(11)] public DateTimeOffset UpdatedAt { get; set; }
    [Id(12)] public DateTimeOffset? CompletedAt { get; set; }
    [Id(13)] public string? CancelledBy { get; set; }
    [Id(14)] public string? Error { get; set; }
    /// <summary>Steps failed in a row.</summary>
    [Id(15)] public int FailedSteps { get; set; }
}

/// <summary>The recent operations' ids, oldest first, at most <see cref="Keep"/>.</summary>
internal sealed class BulkOperationIndexGrain(
    [PersistentState("operations", RelayStorage.ControlName)] IPersistentState<BulkOperationIndexState> state) : Grain, IBulkOperationIndexGrain
{
    internal const int Keep = 200;

    public async Task Add(string operationId)
    {
        var ids = state.State.Ids;
        if (ids.Contains(operationId, StringComparer.Ordinal))
        {
            return;
        }

        ids.Add(operationId);
        if (ids.Count > Keep)
        {
            ids.RemoveRange(0, ids.Count - Keep);
        }

        await state.WriteStateAsync();
    }

    public Task<string[]> Recent(int limit) =>
        Task.FromResult(Enumerable.Reverse(state.State.Ids).Take(Math.Max(0, limit)).ToArray());
}

[GenerateSerializer]
public sealed class BulkOperationIndexState
{
    [Id(0)] public List<string> Ids { get; set; } = [];
}
