using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;
using Relay.Grains;
using Relay.Storage.AdoNet.Schema;

namespace Relay.Storage.AdoNet.Tests;

/// <summary>
/// The PostgreSQL storage wired as <see cref="RelayPostgresExtensions.UseRelayPostgres"/> wires it in a silo (less
/// the membership table), started as a silo starts it: the schema's and the grain storage's lifecycle participants
/// in stage order (the schema first), then the reminder table.
/// </summary>
public sealed class PostgresTestHost : IAsyncDisposable
{
    public const string ServiceId = "relay-tests";

    private PostgresTestHost(string connectionString, ServiceProvider services)
    {
        ConnectionString = connectionString;
        Services = services;
    }

    public string ConnectionString { get; }

    public ServiceProvider Services { get; }

    public NpgsqlDataSource DataSource => Services.GetRequiredKeyedService<NpgsqlDataSource>(RelayPostgresExtensions.DataSourceKey);

    public IGrainStorage GrainStorage => Services.GetRequiredKeyedService<IGrainStorage>(RelayStorage.Name);

    public StorageUnderTest Storage => new(GrainStorage, Services.GetRequiredService<IReminderTable>(), Services.GetRequiredService<IRelayStore>(),
        Services.GetRequiredKeyedService<IGrainStorageSerializer>(RelayStorage.Name), Services.GetRequiredService<IOrderingQueueStore>(),
        Services.GetRequiredService<Relay.Core.Catalog.ICatalogStore>());

    /// <summary>A host on a fresh database of the shared test server, with the schema applied at start-up.</summary>
    public static async Task<PostgresTestHost> CreateAsync()
    {
        var server = await PostgresServer.Shared;
        return await StartAsync(await server.CreateDatabaseAsync(), migrate: true);
    }

    public static async Task<PostgresTestHost> StartAsync(string connectionString, bool migrate)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSerializer(serializer => serializer.AddAssembly(typeof(CounterState).Assembly));
        services.Configure<ClusterOptions>(options =>
        {
            options.ClusterId = "relay-tests";
            options.ServiceId = ServiceId;
        });
        services.AddRelayPostgres(connectionString, migrate, maxPoolSize: 50);
        var provider = services.BuildServiceProvider();
        try
        {
            foreach (var validator in provider.GetServices<IConfigurationValidator>())
            {
                validator.ValidateConfiguration();
            }

            // The silo's other participants (the reminder service, ...) need a whole silo; these two are the storage's.
            var lifecycle = new StartOnlyLifecycle();
            new PostgresSchemaStartup(
                provider.GetRequiredKeyedService<NpgsqlDataSource>(RelayPostgresExtensions.DataSourceKey),
                migrate,
                NullLogger<PostgresSchemaStartup>.Instance).Participate(lifecycle);
            ((ILifecycleParticipant<ISiloLifecycle>)provider.GetRequiredKeyedService<IGrainStorage>(RelayStorage.Name)).Participate(lifecycle);

            await lifecycle.StartAsync();
            // The reminder service starts its table after the silo's storage is up.
            await provider.GetRequiredService<IReminderTable>().StartAsync();
            return new PostgresTestHost(connectionString, provider);
        }
        catch
        {
            await provider.DisposeAsync();
            throw;
        }
    }

    public ValueTask DisposeAsync() => Services.DisposeAsync();

    /// <summary>The start half of a silo's lifecycle: observers run stage by stage, lowest first.</summary>
    private sealed class StartOnlyLifecycle : ISiloLifecycle
    {
        private readonly List<(int Stage, string Name, ILifecycleObserver Observer)> _observers = [];

        public int HighestCompletedStage { get; private set; } = int.MinValue;

        public int LowestStoppedStage { get; } = int.MaxValue;

        public IDisposable Subscribe(string observerName, int stage, ILifecycleObserver observer)
        {
            _observers.Add((stage, observerName, observer));
            return new NoUnsubscribe();
        }

        public async Task StartAsync()
        {
            foreach (var stage in _observers.GroupBy(o => o.Stage).OrderBy(g => g.Key))
            {
                await Task.WhenAll(stage.Select(o => o.Observer.OnStart(CancellationToken.None)));
                HighestCompletedStage = stage.Key;
            }
        }

        private sealed class NoUnsubscribe : IDisposable
        {
            public void Dispose()
            {
            }
        }
    }
}

/// <summary>One database per test class, on the test process's shared server.</summary>
public sealed class PostgresStorageFixture : IAsyncLifetime
{
    public PostgresTestHost Host { get; private set; } = null!;

    public async Task InitializeAsync() => Host = await PostgresTestHost.CreateAsync();

    public async Task DisposeAsync() => await Host.DisposeAsync();
}
