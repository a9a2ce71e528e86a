using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using Relay.Contracts;
using Relay.Core.Options;
using Relay.Core.Storage;
using Relay.Core.Telemetry;

namespace Relay.Silo.Telemetry;

/// <summary>
/// Feeds the <c>relay.deliveries</c> gauge (Pending, InRetry, DeadLettered per destination) from the store's counts,
/// cached: a scrape answers from memory at once and, when the figures are older than
/// <see cref="TelemetryOptions.DeliveryCountsRefresh"/>, starts one refresh in the background (never two at once), so a
/// scrape never waits for the database and the store sees at most one count query per interval. The counts are
/// the cluster's: every silo reports the same figures.
/// </summary>
internal sealed partial class DeliveryCountsGauge
{
    private static readonly DeliveryStatus[] Observed = [DeliveryStatus.Pending, DeliveryStatus.InRetry, DeliveryStatus.DeadLettered, DeliveryStatus.AwaitingAcknowledgment];

    private readonly IRelayStore _store;
    private readonly IOptions<RelayOptions> _relay;
    private readonly TimeProvider _time;
    private readonly TimeSpan _refresh;
    private readonly ILogger<DeliveryCountsGauge> _logger;
    private Measurement<long>[] _figures = [];
    private long _refreshedAt;
    private int _refreshing;

    public DeliveryCountsGauge(RelayMetrics metrics, IRelayStore store, TimeProvider time, IOptions<TelemetryOptions> options,
        IOptions<RelayOptions> relay, ILogger<DeliveryCountsGauge> logger)
    {
        _store = store;
        // Asked at each refresh: the catalog adds and removes destinations at runtime.
        _relay = relay;
        _time = time;
        _refresh = options.Value.DeliveryCountsRefresh;
        _logger = logger;
        metrics.ObserveDeliveries(Observe);
    }

    private IEnumerable<Measurement<long>> Observe()
    {
        var stale = _refreshedAt == 0 || _time.GetElapsedTime(Volatile.Read(ref _refreshedAt)) >= _refresh;
        if (stale && Interlocked.CompareExchange(ref _refreshing, 1, 0) == 0)
        {
            _ = Task.Run(RefreshAsync);
        }

        return Volatile.Read(ref _figures);
    }

    private async Task RefreshAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var counts = await _store.CountByDestinationAsync(timeout.Token);
            var figures = new List<Measurement<long>>();
            // Configured destinations always have their series (zeros at first); removed ones keep theirs while they hold deliveries.
            foreach (var destination in _relay.Value.Destinations.Keys.Concat(counts.Select(c => c.Destination)).Distinct(StringComparer.Ordinal))
            {
                foreach (var status in Observed)
                {
                    var count = counts.Where(c => c.Destination == destination && c.Status == status).Sum(c => c.Count);
                    // Every observed status of a known destination, zeros included, so a series drops to 0 rather than vanishing.
                    figures.Add(new Measurement<long>(count, new TagList
                    {
                        { RelayTelemetry.DestinationTag, destination },
                        { RelayTelemetry.StatusTag, RelayTelemetry.Of(status) },
                    }));
                }
            }

            Volatile.Write(ref _figures, figures.ToArray());
            Volatile.Write(ref _refreshedAt, _time.GetTimestamp());
        }
        catch (Exception ex)
        {
            // The last figures stay; the next scrape after the interval tries again.
            Log.RefreshFailed(_logger, ex);
            Volatile.Write(ref _refreshedAt, _time.GetTimestamp());
        }
        finally
        {
            Volatile.Write(ref _refreshing, 0);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5001, Level = LogLevel.Warning, Message = "Counting deliveries for the relay.deliveries gauge failed; the last figures stay")]
        public static partial void RefreshFailed(ILogger logger, Exception exception);
    }
}
