using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;

namespace Relay.Storage.Sqlite.Tests;

/// <summary>The SQLite storage as a silo wires it, in a temporary folder of its own.</summary>
public sealed class SqliteTestHost : IAsyncDisposable
{
    private readonly bool _ownsFolder;

    private SqliteTestHost(string folder, ServiceProvider services, bool ownsFolder)
    {
        Folder = folder;
        Services = services;
        _ownsFolder = ownsFolder;
    }

    public string Folder { get; }

    public ServiceProvider Services { get; }

    public SqliteDatabase Database => Services.GetRequiredService<SqliteDatabase>();

    public StorageUnderTest Storage => new(
        Services.GetRequiredKeyedService<IGrainStorage>("relay"),
        Services.GetRequiredService<IReminderTable>(),
        Services.GetRequiredService<IRelayStore>(),
        Services.GetRequiredKeyedService<IGrainStorageSerializer>("relay"),
        Services.GetRequiredService<IOrderingQueueStore>(),
        Services.GetRequiredService<Relay.Core.Catalog.ICatalogStore>());

    public static SqliteTestHost Create() =>
        Open(TempFolder.Create("relay-sqlite-"), ownsFolder: true);

    /// <summary>Opens the database in <paramref name="folder"/> again; the caller deletes the folder.</summary>
    public static SqliteTestHost Open(string folder, bool ownsFolder = false)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSerializer(serializer => serializer.AddAssembly(typeof(CounterState).Assembly));
        services.AddSingleton<IGrainStorageSerializer, OrleansGrainStorageSerializer>();
        services.AddRelaySqliteStorage(folder);
        var provider = services.BuildServiceProvider();
        // Open now, as the silo does at start-up.
        _ = provider.GetRequiredService<SqliteDatabase>();
        return new SqliteTestHost(folder, provider, ownsFolder);
    }

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        if (_ownsFolder)
        {
            DeleteFolder(Folder);
        }
    }

    public static void DeleteFolder(string folder)
    {
        SqliteConnection.ClearAllPools();
        TempFolder.Delete(folder);
    }
}

/// <summary>One database per test class.</summary>
public sealed class SqliteStorageFixture : IAsyncLifetime
{
    public SqliteTestHost Host { get; private set; } = null!;

    public Task InitializeAsync()
    {
        Host = SqliteTestHost.Create();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await Host.DisposeAsync();
}
