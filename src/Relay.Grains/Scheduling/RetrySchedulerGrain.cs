using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Relay.Core.Messages;
using Relay.Core.Options;
using Relay.Core.Storage;
using Relay.Grains.Delivery;
using Relay.Grains.Destinations;

namespace Relay.Grains.Scheduling;

/// <summary>
/// Where a retry gets scheduled: a delivery's next attempt is the <c>due_at</c> of its index row, written in
/// the same commit as its state; this grain finds due rows of its shard range and wakes their delivery
/// grains, at most <see cref="SchedulerOptions.MaxInFlight"/> at a time. The delivery grains are placed by
/// Orleans over the whole cluster, so a backlog is worked by every silo.
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

    private readonly SchedulerOptions _options = options.Value.Scheduler;
    private readonly HashSet<DeliveryKey> _inFlight = [];
    private int _shardFrom;
    private int _shardTo;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var index = (int)this.GetPrimaryKeyLong();
        (_shardFrom, _shardTo) = ShardRange(index, _options.Shards);
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

        IReadOnlyList<DeliveryKey> due;
        try
        {
            due = await store.GetDueDeliveriesAsync(_shardFrom, _shardTo, time.GetUtcNow(), Math.Min(_options.BatchSize, room) + _inFlight.Count,
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

            if (_inFlight.Add(key))
            {
                _ = WakeAsync(key);
            }
        }
    }

    private async Task WakeAsync(DeliveryKey key)
    {
        try
        {
            await GrainFactory.GetGrain<IDeliveryGrain>(key.ToString()).Wake();
        }
        catch (Exception ex)
        {
            Log.WakeFailed(logger, ex, key.MessageId, key.Destination);
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

        [LoggerMessage(EventId = 1103, Level = LogLevel.Warning, Message = "Message {MessageId} to {Destination}: waking the delivery failed; the scheduler tries again")]
        public static partial void WakeFailed(ILogger logger, Exception exception, string messageId, string destination);
    }
}
