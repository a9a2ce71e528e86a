using Microsoft.Extensions.Options;
using Relay.Contracts;
using Relay.Core.Messages;
using Relay.Core.Options;
using Relay.Core.Storage;
using Relay.Grains.Delivery;
using Relay.Grains.Destinations;

namespace Relay.Silo.Portal;

/// <summary>What the portal's pages read: the destinations' overview, and a message with what its deliveries carry.</summary>
public sealed class PortalQueries(IRelayStore store, IGrainFactory grains, DestinationControl control, IOptions<RelayOptions> options, TimeProvider time)
{
    /// <summary>The chart covers the last hour in windows of this width.</summary>
    public static readonly TimeSpan ChartWindow = TimeSpan.FromMinutes(3);

    public const int ChartWindows = 20;

    public RelayOptions Relay => options.Value;

    public async Task<Overview> OverviewAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var chartFrom = now - ChartWindow * ChartWindows;
        var totals = store.CountByDestinationAsync(cancellationToken);
        var hour = store.CountChangedSinceAsync(now.AddHours(-1), cancellationToken);
        var day = store.CountChangedSinceAsync(now.AddDays(-1), cancellationToken);
        var attempts = store.CountAttemptsAsync(chartFrom, ChartWindow, ChartWindows, cancellationToken);
        await Task.WhenAll(totals, hour, day, attempts);

        var holds = control.Current;
        var destinations = Relay.Destinations
            .OrderBy(d => d.Key, StringComparer.Ordinal)
            .Select(d =>
            {
                var hold = holds.ByDestination.GetValueOrDefault(d.Key);
                return new DestinationOverview
                {
                    Name = d.Key,
                    Protocol = d.Value.Protocol,
                    Contract = d.Value.Contract ?? RelayOptions.DefaultContractName,
                    HasCircuitBreaker = d.Value.FailureThreshold is not null,
                    Paused = hold?.Paused ?? false,
                    Circuit = hold?.Circuit ?? CircuitState.Closed,
                    OpenUntil = hold?.OpenUntil,
                    HoldReason = hold?.Reason,
                    Now = Counts(totals.Result, d.Key),
                    LastHour = Counts(hour.Result, d.Key),
                    LastDay = Counts(day.Result, d.Key),
                    Chart = AttemptChart.Of(attempts.Result.Where(b => b.Destination == d.Key), ChartWindows),
                };
            })
            .ToList();
        return new Overview(now, chartFrom, destinations);
    }

    /// <summary>A message with its audit and the content of each delivery (read from the delivery grains, which change nothing).</summary>
    public async Task<MessageDetails?> MessageAsync(string id, CancellationToken cancellationToken)
    {
        var message = await store.GetMessageAsync(id, includeAudit: true, cancellationToken);
        if (message is null || message.Deliveries.Count == 0)
        {
            return null;
        }

        var contents = await Task.WhenAll(message.Deliveries.Select(d =>
            grains.GetGrain<IDeliveryGrain>(new DeliveryKey(d.Destination, d.MessageId).ToString()).GetContent()));
        var byDestination = new Dictionary<string, DeliveryContent>(StringComparer.Ordinal);
        for (var i = 0; i < contents.Length; i++)
        {
            if (contents[i] is { } content)
            {
                byDestination[message.Deliveries[i].Destination] = content;
            }
        }

        return new MessageDetails(message, byDestination);
    }

    private static StatusCounts Counts(IReadOnlyList<DestinationCount> counts, string destination)
    {
        long Of(DeliveryStatus status) => counts.Where(c => c.Destination == destination && c.Status == status).Sum(c => c.Count);
        return new StatusCounts(Of(DeliveryStatus.Pending), Of(DeliveryStatus.Delivered), Of(DeliveryStatus.InRetry), Of(DeliveryStatus.DeadLettered),
            Of(DeliveryStatus.Discarded));
    }
}

public sealed record Overview(DateTimeOffset At, DateTimeOffset ChartFrom, IReadOnlyList<DestinationOverview> Destinations);

public sealed record StatusCounts(long Pending, long Delivered, long InRetry, long DeadLettered, long Discarded);

public sealed record DestinationOverview
{
    public required string Name { get; init; }
    public required string Protocol { get; init; }
    public required string Contract { get; init; }
    public bool HasCircuitBreaker { get; init; }
    public bool Paused { get; init; }
    public CircuitState Circuit { get; init; }
    public DateTimeOffset? OpenUntil { get; init; }
    public string? HoldReason { get; init; }
    /// <summary>Deliveries by their status now.</summary>
    public required StatusCounts Now { get; init; }
    /// <summary>Deliveries whose last change was in the last hour, by their status.</summary>
    public required StatusCounts LastHour { get; init; }
    public required StatusCounts LastDay { get; init; }
    public required AttemptChart Chart { get; init; }
}

public sealed record MessageDetails(StoredMessage Message, IReadOnlyDictionary<string, DeliveryContent> Contents);
