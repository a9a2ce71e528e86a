using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Relay.Core.Options;
using Relay.Core.Storage;

namespace Relay.Grains.Scheduling;

/// <summary>
/// Every <c>Relay:Audit:PurgeInterval</c>: removes the audit entries of finished deliveries older than
/// <c>Relay:Audit:Retention</c>, and the messages finished (Delivered or Discarded) longer ago than
/// <c>Relay:Retention:Delivered</c>, payloads included. What is not finished (a dead letter above all) is kept.
/// </summary>
internal sealed partial class RetentionPurge(
    IRelayStore store,
    IOptions<RelayOptions> options,
    TimeProvider time,
    ILogger<RetentionPurge> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var audit = options.Value.Audit;
        var retention = options.Value.Retention;
        using var timer = new PeriodicTimer(audit.PurgeInterval, time);
        do
        {
            try
            {
                var removed = await store.PurgeAuditAsync(time.GetUtcNow() - audit.Retention, stoppingToken);
                if (removed > 0)
                {
                    Log.Purged(logger, removed, audit.Retention);
                }

                var finished = await store.PurgeFinishedDeliveriesAsync(time.GetUtcNow() - retention.Delivered, stoppingToken);
                if (finished > 0)
                {
                    Log.PurgedDeliveries(logger, finished, retention.Delivered);
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                Log.PurgeFailed(logger, ex);
            }
        }
        while (await NextTickAsync(timer, stoppingToken));
    }

    private static async Task<bool> NextTickAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1121, Level = LogLevel.Information, Message = "Removed {Count} audit entries of finished deliveries older than {Retention}")]
        public static partial void Purged(ILogger logger, int count, TimeSpan retention);

        [LoggerMessage(EventId = 1122, Level = LogLevel.Warning, Message = "Purging old audit entries and finished messages failed; trying again at the next interval")]
        public static partial void PurgeFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 1123, Level = LogLevel.Information, Message = "Removed {Count} deliveries finished longer ago than {Retention}, with their payloads and audit")]
        public static partial void PurgedDeliveries(ILogger logger, int count, TimeSpan retention);
    }
}
