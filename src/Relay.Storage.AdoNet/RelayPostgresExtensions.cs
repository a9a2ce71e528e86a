using System.Data.Common;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Providers;
using Orleans.Runtime;
using Orleans.Runtime.Hosting;
using Orleans.Storage;
using Relay.Core.Catalog;
using Relay.Core.Storage;
using Relay.Grains;
using Relay.Grains.Delivery;
using Relay.Storage.AdoNet.Schema;
using Relay.Storage.AdoNet.Writing;
using Orleans.Serialization.Serializers;

namespace Relay.Storage.AdoNet;

/// <summary>
/// Switches on the cluster storage: one PostgreSQL database shared by every silo, through Orleans's own ADO.NET
/// providers (membership, reminders, grain state), with Relay's delivery index and audit kept in the same commit as
/// each delivery grain's state.
/// </summary>
public static class RelayPostgresExtensions
{
    /// <summary>The ADO.NET invariant name Orleans knows Npgsql by.</summary>
    internal const string Invariant = "Npgsql";

    /// <summary>The key of this storage's <see cref="NpgsqlDataSource"/> among the silo's services.</summary>
    internal const string DataSourceKey = RelayStorage.Name;

    /// <summary>
    /// Uses the PostgreSQL database of <paramref name="connectionString"/> for cluster membership, reminders, the grain
    /// storage <c>relay</c> (also the default grain storage) and <see cref="IRelayStore"/>, all over one pool of
    /// connections.
    /// </summary>
    /// <param name="silo">The silo.</param>
    /// <param name="connectionString">An Npgsql connection string; never logged.</param>
    /// <param name="migrate">
    /// Apply the missing scripts of <c>sql/postgresql/</c> at start-up (several silos may start at once). Without it,
    /// a silo whose database lacks them stops at start-up with a message that names them.
    /// </param>
    /// <param name="maxPoolSize">The most connections this silo opens, unless the connection string says otherwise.</param>
    public static ISiloBuilder UseRelayPostgres(this ISiloBuilder silo, string connectionString, bool migrate, int maxPoolSize = 50)
    {
        ArgumentNullException.ThrowIfNull(silo);
        silo.Services.AddRelayPostgres(connectionString, migrate, maxPoolSize);
        silo.UseAdoNetClustering((OptionsBuilder<AdoNetClusteringSiloOptions> options) => options.Configure<IServiceProvider>((o, services) =>
        {
            o.Invariant = Invariant;
            o.DataSource = services.GetRequiredKeyedService<NpgsqlDataSource>(DataSourceKey);
        }));
        return silo;
    }

    /// <summary>Everything of <see cref="UseRelayPostgres"/> but the membership table: what a storage test needs.</summary>
    internal static IServiceCollection AddRelayPostgres(this IServiceCollection services, string connectionString, bool migrate, int maxPoolSize)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPoolSize, 1);
        var pooled = WithPoolSize(connectionString, maxPoolSize);

        services.AddKeyedSingleton(DataSourceKey, (sp, _) =>
        {
            var builder = new NpgsqlDataSourceBuilder(pooled) { Name = DataSourceKey };
            builder.UseLoggerFactory(sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance);
            return builder.Build();
        });
        services.TryAddSingleton<IRelayStore>(sp => new PostgresRelayStore(sp.GetRequiredKeyedService<NpgsqlDataSource>(DataSourceKey)));
        services.TryAddSingleton<IOrderingQueueStore>(sp => new PostgresOrderingQueueStore(sp.GetRequiredKeyedService<NpgsqlDataSource>(DataSourceKey)));
        services.TryAddSingleton<ICatalogStore>(sp => new PostgresCatalogStore(sp.GetRequiredKeyedService<NpgsqlDataSource>(DataSourceKey)));
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => new PostgresSchemaStartup(
            sp.GetRequiredKeyedService<NpgsqlDataSource>(DataSourceKey),
            migrate,
            sp.GetService<ILogger<PostgresSchemaStartup>>() ?? NullLogger<PostgresSchemaStartup>.Instance));

        // Relay's own storage: every delivery state, with its row and audit, through the silo's group-commit writer.
        // Delivery states are stored as JSON (the form script 0007 moved over from OrleansStorage), their content apart
        // (0008); any other state in Orleans's binary form.
        services.TryAddSingleton<OrleansGrainStorageSerializer>();
        services.AddKeyedSingleton<IGrainStorageSerializer>(
            RelayStorage.Name,
            (sp, _) => new DeliveryStateSerializer(new DeliveryStateJsonSerializer(sp.GetRequiredService<OrleansGrainStorageSerializer>())));
        services.TryAddSingleton(sp => new PostgresWriter(
            sp.GetRequiredKeyedService<NpgsqlDataSource>(DataSourceKey),
            sp.GetService<ILogger<PostgresWriter>>() ?? NullLogger<PostgresWriter>.Instance));
        services.AddGrainStorage(RelayStorage.Name, (sp, name) => new PostgresGrainStorage(
            name,
            sp.GetRequiredKeyedService<NpgsqlDataSource>(DataSourceKey),
            sp.GetRequiredService<PostgresWriter>(),
            sp.GetRequiredKeyedService<IGrainStorageSerializer>(name),
            sp.GetRequiredService<IActivatorProvider>(),
            sp.GetService<ILogger<PostgresGrainStorage>>() ?? NullLogger<PostgresGrainStorage>.Instance));
        services.AddGrainStorage(
            ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME,
            (sp, _) => sp.GetRequiredKeyedService<IGrainStorage>(RelayStorage.Name));

        // The small, rare states (a destination's pause and circuit; an ordering key's queue before script 0010, read
        // once to move it into rows): Orleans's own ADO.NET grain storage, one transaction per write, which serves them well.
        // Orleans's binary form, as these states were stored before script 0007.
        services.AddKeyedSingleton<IGrainStorageSerializer>(
            RelayStorage.ControlName,
            (sp, _) => sp.GetRequiredService<OrleansGrainStorageSerializer>());
        services.AddAdoNetGrainStorage(RelayStorage.ControlName, options => options.Configure<IServiceProvider>((o, sp) =>
        {
            o.Invariant = Invariant;
            o.DataSource = sp.GetRequiredKeyedService<NpgsqlDataSource>(DataSourceKey);
            // writetostorage never reuses a version (see 0002_orleans_persistence.sql); with this, a cleared state
            // also reads back without an ETag, as on the embedded backend.
            o.DeleteStateOnClear = true;
        }));

        services.UseAdoNetReminderService(options => options.Configure<IServiceProvider>((o, sp) =>
        {
            o.Invariant = Invariant;
            o.DataSource = sp.GetRequiredKeyedService<NpgsqlDataSource>(DataSourceKey);
        }));
        var stock = services.Last(d => d.ServiceType == typeof(IReminderTable) && !d.IsKeyedService);
        var stockType = stock.ImplementationType
            ?? throw new InvalidOperationException("Orleans registered its ADO.NET reminder table in a way this build does not know.");
        services.Remove(stock);
        services.AddSingleton<IReminderTable>(sp => new EtagCheckingReminderTable((IReminderTable)ActivatorUtilities.CreateInstance(sp, stockType)));
        return services;
    }

    /// <summary>The connection string with Max Pool Size and No Reset On Close set, unless it sets them itself.</summary>
    internal static string WithPoolSize(string connectionString, int maxPoolSize)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException exception)
        {
            // Npgsql's message names the offending keyword only; the string itself may hold a password.
            throw new ArgumentException($"The PostgreSQL connection string is not valid: {exception.Message}", nameof(connectionString));
        }

        var raw = new DbConnectionStringBuilder { ConnectionString = connectionString };
        var setsPoolSize = raw.Keys.Cast<string>()
            .Select(key => key.Replace(" ", "", StringComparison.Ordinal))
            .Any(key => key.Equals("MaxPoolSize", StringComparison.OrdinalIgnoreCase) || key.Equals("MaximumPoolSize", StringComparison.OrdinalIgnoreCase));
        if (!setsPoolSize)
        {
            builder.MaxPoolSize = maxPoolSize;
        }

        // Relay keeps no session state on its connections, and resetting them (DISCARD ALL) on every return to the
        // pool drops PostgreSQL's cached plans: measured (bench/memory.sh, 20,000 messages) at 4.1 instead of
        // 8.1 transactions per message and 39% less database CPU. A connection string that says otherwise wins.
        if (!raw.Keys.Cast<string>().Any(key => key.Replace(" ", "", StringComparison.Ordinal).Equals("NoResetOnClose", StringComparison.OrdinalIgnoreCase)))
        {
            builder.NoResetOnClose = true;
        }

        // Statements Relay runs again and again (the writer's, the reads') are prepared on each connection once used
        // twice: PostgreSQL then skips parsing and planning them. A connection string that says otherwise wins.
        if (!raw.Keys.Cast<string>().Any(key => key.Replace(" ", "", StringComparison.Ordinal).Equals("MaxAutoPrepare", StringComparison.OrdinalIgnoreCase)))
        {
            builder.MaxAutoPrepare = 64;
        }

        return builder.ConnectionString;
    }
}
