using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Runtime;
using Relay.Grains.Scheduling;

namespace Relay.Grains;

public static class RelayGrainsExtensions
{
    /// <summary>
    /// Adds Relay's grains and their background work (retry schedulers, audit purge) to a silo.
    /// Storage (grain storage "relay", <see cref="Orleans.IReminderTable"/>, <see cref="Relay.Core.Storage.IRelayStore"/>)
    /// and protocol adapters are added separately.
    /// </summary>
    public static ISiloBuilder AddRelayGrains(this ISiloBuilder silo)
    {
        silo.AddReminders();
        var services = silo.Services;
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<SchedulerKeepAlive>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<SchedulerKeepAlive>());
        services.AddHostedService<AuditPurge>();
        return silo;
    }
}
