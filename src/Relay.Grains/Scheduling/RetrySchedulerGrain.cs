using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Relay.Core.Messages;
using Relay.Core.Options;
using Relay.Core.Retry;
using Relay.Core.Storage;
using Relay.Grains.Delivery;
using Relay.Grains.Destinations;

namespace Relay.Grains.Scheduling;

/// <summary>
/// Where a retry gets scheduled: a delivery's next attempt is the <c>due_at</c> of its index row, written in
/// the same commit as its state; this grain finds due rows of its shard range and wakes their delivery
/// grains, at most <see cref="SchedulerOptions.MaxInFlight"/> at a time. The delivery grains are placed by
/// Orleans over the whole cluster, so a backlog is worked by every silo. A delivery whose wake fails is left alone
/// for a while (<see cref="WakeBackoff"/>): a row that fails at every wake takes no place from the others.
/// </summary>
internal sealed partial class RetrySchedulerGrain(
    IRelayStore store,
    DestinationControl control,
    IOptions<RelayOptions> options,
    TimeProvider time,
    ILogger<RetrySchedulerGrain> logger) : Grain, IRetrySchedulerGrain, IRemindable
{
    internal const string ReminderName = "retry-scheduler";
    private static readonly TimeSpan ReminderPeriod = TimeSpan.FromMinutes(1);

    /// <summary>The longest a delivery whose wakes keep failing waits for its next wake (and its next log line).</summary>
    internal static readonly TimeSpan MaxWakeBackoff = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Deliveries held back at most, per scheduler: the poll reads this many rows more than its batch when they are
    /// all held (a few milliseconds on an index), and beyond it a failing key is woken at every poll again.
    /// </summary>
    internal const int MaxHeldWakes = 4096;

    private readonly SchedulerOptions _options = options.Value.Scheduler;
    // A wake in flight holds its place until its call returns; Orleans ends a call that hangs (its ResponseTimeout,
    // 30 s by default) with an exception, so no place is held for ever.
    private readonly HashSet<DeliveryKey> _inFlight = [];
    private WakeBackoff _failing = null!;
    private int _shardFrom;
    private int _shardTo;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var index = (int)this.GetPrimaryKeyLong();
        (_shardFrom, _shardTo) = ShardRange(index, _options.Shards);
        _failing = new WakeBackoff(_options.PollInterval, MaxWakeBackoff, MaxHeldWakes);
        this.RegisterGrainTimer(PollAsync, new GrainTimerCreationOptions(_options.PollInterval, _options.PollInterval)
        {
            KeepAlive = true,
        });
        await this.RegisterOrUpdateReminder(ReminderName, ReminderPeriod, ReminderPeriod);
        Log.Started(logger, index, _shardFrom, _shardTo);
    }

    /// <summary>The delivery shards scheduler <paramref name="index"/> of <paramref name="count"/> owns, inclusive.</summary>
    internal static (int From, int To) ShardRange(int index, int count)
    {
        var from = (int)((long)index * DeliveryKey.ShardSpace / count);
        var to = (int)((long)(index + 1) * DeliveryKey.ShardSpace / count) - 1;
        return (from, to);
    }

    public Task Ping() => Task.CompletedTask;

    // The reminder's work is done by activating this grain; the timer does the polling.
    public Task ReceiveReminder(string reminderName, TickStatus status) => Task.CompletedTask;

    private async Task PollAsync(CancellationToken cancellationToken)
    {
        var room = _options.MaxInFlight - _inFlight.Count;
        if (room <= 0)
        {
            return;
        }

        var now = time.GetUtcNow();
        _failing.Prune(now);
        IReadOnlyList<DeliveryKey> due;
        try
        {
            // The rows in flight or held back are due still, earliest first: read past them.
            due = await store.GetDueDeliveriesAsync(_shardFrom, _shardTo, now, Math.Min(_options.BatchSize, room) + _inFlight.Count + _failing.Count,
                control.Held, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.PollFailed(logger, ex, _shardFrom, _shardTo);
            return;
        }

        foreach (var key in due)
        {
            if (_inFlight.Count >= _options.MaxInFlight)
            {
                break;
            }

            if (!_failing.IsHeld(key, now) && _inFlight.Add(key))
            {
                _ = WakeAsync(key);
            }
        }
    }

    private async Task WakeAsync(DeliveryKey key)
    {
        try
        {
            await GrainReferences<IDeliveryGrain>.Get(GrainFactory, key.ToString()).Wake();
            _failing.Succeeded(key);
        }
        catch (Exception ex)
        {
            // One stack trace per failing delivery, then a line at its 2nd, 4th, 8th... failure in a row: a row that
            // fails for ever (woken once a minute) is logged ever more rarely, not at every poll.
            switch (_failing.Failed(key, time.GetUtcNow()))
            {
                case (1, var delay):
                    Log.WakeFailed(logger, ex, key.MessageId, key.Destination, delay);
                    break;
                case var (failures, delay):
                    if ((failures & (failures - 1)) == 0)
                    {
                        Log.WakeFailedAgain(logger, key.MessageId, key.Destination, failures, ex.GetType().Name, ex.Message, delay);
                    }

                    break;
                default:
                    // Beyond MaxHeldWakes: woken at every poll, so not logged above Debug at each.
                    Log.WakeFailedUnheld(logger, key.MessageId, key.Destination, ex.GetType().Name, ex.Message);
                    break;
            }
        }
        finally
        {
            _inFlight.Remove(key);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1101, Level = LogLevel.Debug, Message = "Retry scheduler {Index} started for shards {From}..{To}")]
        public static partial void Started(ILogger logger, int index, int from, int to);

        [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "Retry scheduler of shards {From}..{To} could not read due deliveries")]
        public static partial void PollFailed(ILogger logger, Exception exception, int from, int to);

        [LoggerMessage(EventId = 1103, Level = LogLevel.Warning, Message = "Message {MessageId} to {Destination}: waking the delivery failed; the scheduler tries again in {Delay}")]
        public static partial void WakeFailed(ILogger logger, Exception exception, string messageId, string destination, TimeSpan delay);

        [LoggerMessage(EventId = 1104, Level = LogLevel.Warning,
            Message = "Message {MessageId} to {Destination}: waking the delivery failed again ({Failures} times in a row): {ErrorType}: {Error}; next try in {Delay}")]
        public static partial void WakeFailedAgain(ILogger logger, string messageId, string destination, int failures, string errorType, string error, TimeSpan delay);

        [LoggerMessage(EventId = 1105, Level = LogLevel.Debug,
            Message = "Message {MessageId} to {Destination}: waking the delivery failed ({ErrorType}: {Error}); too many deliveries are held back to hold it too")]
        public static partial void WakeFailedUnheld(ILogger logger, string messageId, string destination, string errorType, string error);
    }
}
