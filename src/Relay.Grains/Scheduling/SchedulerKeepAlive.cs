using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Relay.Core.Options;

namespace Relay.Grains.Scheduling;

/// <summary>
/// Once the silo is active, and then every <see cref="Interval"/>, pings every retry scheduler so that each
/// runs somewhere in the cluster. The schedulers' reminders are the durable backstop; this makes the
/// takeover after a silo's death as quick as the cluster notices it, instead of up to a reminder period.
/// </summary>
internal sealed partial class SchedulerKeepAlive(
    IGrainFactory grains,
    IOptions<RelayOptions> options,
    TimeProvider time,
    ILogger<SchedulerKeepAlive> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    internal static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    private readonly CancellationTokenSource _stopping = new();
    private Task _loop = Task.CompletedTask;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(SchedulerKeepAlive), ServiceLifecycleStage.Active, OnStart, OnStop);

    private Task OnStart(CancellationToken cancellationToken)
    {
        _loop = Task.Run(LoopAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task OnStop(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await _loop.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task LoopAsync()
    {
        var shards = options.Value.Scheduler.Shards;
        using var timer = new PeriodicTimer(Interval, time);
        do
        {
            try
            {
                await Task.WhenAll(Enumerable.Range(0, shards).Select(i => grains.GetGrain<IRetrySchedulerGrain>(i).Ping()));
            }
            catch (Exception ex) when (!_stopping.IsCancellationRequested)
            {
                Log.PingFailed(logger, ex);
            }
        }
        while (await WaitAsync(timer));
    }

    private async Task<bool> WaitAsync(PeriodicTimer timer)
    {
        try
        {
            return await timer.WaitForNextTickAsync(_stopping.Token);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1111, Level = LogLevel.Warning, Message = "Could not reach the retry schedulers; trying again shortly")]
        public static partial void PingFailed(ILogger logger, Exception exception);
    }
}
