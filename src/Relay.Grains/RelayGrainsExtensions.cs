using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Configuration;
using Orleans.Runtime;
using Relay.Grains.Scheduling;

namespace Relay.Grains;

public static class RelayGrainsExtensions
{
    /// <summary>How long an idle delivery grain stays in memory.</summary>
    public static readonly TimeSpan DeliveryGrainIdleLifetime = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Adds Relay's grains and their background work (retry schedulers, retention purge) to a silo.
    /// Storage (grain storage "relay", <see cref="Orleans.IReminderTable"/>, <see cref="Relay.Core.Storage.IRelayStore"/>)
    /// and protocol adapters are added separately.
    /// </summary>
    public static ISiloBuilder AddRelayGrains(this ISiloBuilder silo)
    {
        silo.AddReminders();
        // A delivery or message grain leaves memory shortly after its last call (instead of Orleans's 15 minutes):
        // at thousands of messages a second, and with 12-hour contracts, memory holds only what is in motion.
        // (A delivery delivered at its first attempt leaves at once: DeliveryGrain.LeaveWhenIdle.)
        // Orleans caches the location of every grain called (a million by default): a delivery grain is called a few
        // times, hours apart, so a smaller cache bounds memory at no cost (bench/memory.sh measured ~350 bytes an entry).
        silo.Configure<GrainDirectoryOptions>(directory => directory.CacheSize = 100_000);
        silo.Configure<GrainCollectionOptions>(collection =>
        {
            collection.CollectionQuantum = TimeSpan.FromSeconds(5);
            collection.ClassSpecificCollectionAge[typeof(Delivery.DeliveryGrain).FullName!] = DeliveryGrainIdleLifetime;
            collection.ClassSpecificCollectionAge[typeof(Messages.MessageGrain).FullName!] = TimeSpan.FromSeconds(10);
        });
        var services = silo.Services;
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<Core.Telemetry.RelayMetrics>();
        services.AddSingleton<Messages.FirstAttemptPlacement>();
        services.AddSingleton<Destinations.DestinationRateLimiter>();
        services.AddSingleton<Destinations.ConcurrencyLimiter>();
        services.TryAddSingleton<Relay.Core.Delivery.DestinationFaults>();
        services.AddSingleton<Destinations.DestinationControl>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<Destinations.DestinationControl>());
        services.AddSingleton<Delivery.DeliveryAttempts>();
        services.AddSingleton<Delivery.FinalNotifications>();
        services.AddSingleton<SchedulerKeepAlive>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<SchedulerKeepAlive>());
        services.AddHostedService<RetentionPurge>();
        return silo;
    }
}
