using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans;
using Orleans.Hosting;
using Orleans.Providers;
using Orleans.Runtime.Hosting;
using Orleans.Serialization;
using Orleans.Serialization.Serializers;
using Orleans.Storage;
using Relay.Core.Catalog;
using Relay.Core.Storage;
using Relay.Grains.Delivery;

namespace Relay.Storage.Sqlite;

/// <summary>Switches on the embedded storage: one SQLite file for grain state, reminders and Relay's read side.</summary>
public static class SqliteStorageExtensions
{
    /// <summary>The grain storage name Relay's grains persist under.</summary>
    internal const string StorageName = Relay.Grains.RelayStorage.Name;

    /// <summary>The grain storage name of the small, rarely written states (Relay.Grains' RelayStorage.ControlName).</summary>
    internal const string ControlStorageName = Relay.Grains.RelayStorage.ControlName;

    /// <summary>
    /// Stores everything in <c>relay.db</c> inside <paramref name="dataPath"/> (created when missing): the grain
    /// storage <c>relay</c> (also the default grain storage), the Orleans reminder table and <see cref="IRelayStore"/>.
    /// </summary>
    /// <param name="services">The silo's services.</param>
    /// <param name="dataPath">Folder of the database file.</param>
    /// <param name="synchronous">
    /// SQLite's <c>synchronous</c>: <c>Full</c> (every commit survives a power loss) or <c>Normal</c>
    /// (survives a crash of the process, may lose the last commits on power loss).
    /// </param>
    public static IServiceCollection AddRelaySqliteStorage(this IServiceCollection services, string dataPath, string synchronous = "Full")
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(dataPath);
        var mode = SqliteSynchronousModeExtensions.Parse(synchronous);

        services.TryAddSingleton(sp => SqliteDatabase.Open(
            dataPath,
            mode,
            sp.GetService<TimeProvider>() ?? TimeProvider.System,
            sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance));
        services.TryAddSingleton<IRelayStore, SqliteRelayStore>();
        services.TryAddSingleton<IOrderingQueueStore, SqliteOrderingQueueStore>();
        services.TryAddSingleton<ICatalogStore, SqliteCatalogStore>();

        services.AddReminders();
        services.AddSingleton<IReminderTable, SqliteReminderTable>();

        // Orleans's own binary form (compact, fast, and exact for [GenerateSerializer] types), each state in an array of
        // its size (OrleansBinaryStateSerializer), a delivery's content apart from its state (DeliveryStateSerializer).
        services.TryAddKeyedSingleton<IGrainStorageSerializer>(
            StorageName,
            (sp, _) => new DeliveryStateSerializer(new OrleansBinaryStateSerializer(sp.GetRequiredService<Serializer>())));
        services.AddGrainStorage(StorageName, (sp, name) => new SqliteGrainStorage(
            name,
            sp.GetRequiredService<SqliteDatabase>(),
            sp.GetRequiredKeyedService<IGrainStorageSerializer>(name),
            sp.GetRequiredService<IActivatorProvider>(),
            sp.GetService<ILogger<SqliteGrainStorage>>() ?? NullLogger<SqliteGrainStorage>.Instance));
        // The small, rare states (pause and circuit, ordering keys) share the file: one storage, two names.
        services.AddGrainStorage(ControlStorageName, (sp, _) => sp.GetRequiredKeyedService<IGrainStorage>(StorageName));
        services.AddGrainStorage(
            ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME,
            (sp, _) => sp.GetRequiredKeyedService<IGrainStorage>(StorageName));
        return services;
    }
}
