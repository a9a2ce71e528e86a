using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Configuration;
using Orleans.Runtime;
using Orleans.Runtime.GrainDirectory;
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
        // Orleans caches the location of every grain it places or finds (a million by default), and keeps it after
        // the grain has left memory. The grains of one message (deliveries, messages) are left out of it
        // (OneShotGrainsUncached); the others, a few thousand at most, are kept in an LRU of 100,000.
        silo.Configure<GrainDirectoryOptions>(directory =>
        {
            directory.CacheSize = 100_000;
            directory.CachingStrategy = GrainDirectoryOptions.CachingStrategyType.Custom;
        });
        silo.Services.AddSingleton<IGrainDirectoryCache, OneShotGrainsUncached>();
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
