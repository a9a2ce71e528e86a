using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Relay.Core.Options;
using Relay.Core.Storage;

namespace Relay.Grains.Scheduling;

/// <summary>Removes audit entries older than <c>Relay:Audit:Retention</c>, every <c>Relay:Audit:PurgeInterval</c>.</summary>
internal sealed partial class AuditPurge(
    IRelayStore store,
    IOptions<RelayOptions> options,
    TimeProvider time,
    ILogger<AuditPurge> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var audit = options.Value.Audit;
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
        [LoggerMessage(EventId = 1121, Level = LogLevel.Information, Message = "Removed {Count} audit entries older than {Retention}")]
        public static partial void Purged(ILogger logger, int count, TimeSpan retention);

        [LoggerMessage(EventId = 1122, Level = LogLevel.Warning, Message = "Purging old audit entries failed; trying again at the next interval")]
        public static partial void PurgeFailed(ILogger logger, Exception exception);
    }
}
