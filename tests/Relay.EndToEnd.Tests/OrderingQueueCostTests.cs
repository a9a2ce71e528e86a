using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans;
using Orleans.Runtime;
using Orleans.Storage;
using Relay.Grains;
using Relay.Grains.Ordering;
using Relay.Testing;
using Xunit.Abstractions;

namespace Relay.EndToEnd.Tests;

/// <summary>
/// What one enqueue writes with 10,000 messages waiting in its ordering queue (issue 15, item 7), measured in the
/// database's write-ahead log of a real silo, on each backend (subclasses): now, one row; before, the state holding the
/// whole list (the write the previous OrderingKeyGrain made on every enqueue, made here through the same grain storage).
/// </summary>
public abstract class OrderingQueueCostTests(ITestOutputHelper output) : IAsyncLifetime
{
    protected const int Depth = 10_000;
    private const int Samples = 20;

    protected TestSilo Silo { get; private set; } = null!;

    protected abstract Task<Dictionary<string, string?>> StorageAsync();

    /// <summary>Puts <paramref name="ids"/> in the queue's rows, in order, with SQL (the grain would take a while).</summary>
    protected abstract Task FillAsync(string queue, IReadOnlyList<string> ids);

    /// <summary>Bytes the database writes to its log for <paramref name="write"/>; null when the log was reset meanwhile.</summary>
    protected abstract Task<long?> LoggedBytesAsync(Func<Task> write);

    protected abstract string Backend { get; }

    public async Task InitializeAsync()
    {
        var settings = await StorageAsync();
        settings["Relay:Destinations:silent:Address"] = "http://127.0.0.1:9/silent";
        settings["Relay:Ordering:MaxDepth"] = "100000";
        Silo = await TestSilo.StartAsync(settings);
        await Silo.WaitForSchedulersAsync();
    }

    public virtual async Task DisposeAsync() => await Silo.DisposeAsync();

    private static string NewId() => Guid.NewGuid().ToString("N");

    [Fact]
    public async Task An_enqueue_behind_10000_waiting_messages_writes_one_row_not_the_whole_list()
    {
        var grains = Silo.Services.GetRequiredService<IGrainFactory>();
        var queue = "silent/*/deep";
        var ids = Enumerable.Range(0, Depth).Select(_ => NewId()).ToList();
        await FillAsync(queue, ids);
        var key = grains.GetGrain<IOrderingKeyGrain>(queue);
        Assert.False(await key.Enqueue(NewId()));

        var now = await MedianAsync(() => key.Enqueue(NewId()));

        // Before: the whole list, written as the previous grain wrote it, through the same storage.
        var storage = Silo.Services.GetRequiredKeyedService<IGrainStorage>(RelayStorage.ControlName);
        var legacyId = GrainId.Create(key.GetGrainId().Type, "silent/legacy-deep");
        var state = new GrainState<OrderingKeyState>(new OrderingKeyState { Queue = [.. ids] });
        await storage.WriteStateAsync("ordering", legacyId, state);
        var before = await MedianAsync(() =>
        {
            state.State!.Queue.Add(NewId());
            return storage.WriteStateAsync("ordering", legacyId, state);
        });

        output.WriteLine($"{Backend}: one enqueue with {Depth:N0} waiting writes {now:N0} bytes to the log; the whole list, as before: {before:N0} bytes");
        Assert.True(now * 10 < before, $"{now} bytes per enqueue, {before} for the whole list");
        Assert.True(now < 32 * 1024, $"{now} bytes per enqueue");
    }

    private async Task<long> MedianAsync(Func<Task> write)
    {
        var samples = new List<long>();
        for (var attempt = 0; samples.Count < Samples && attempt < Samples * 3; attempt++)
        {
            if (await LoggedBytesAsync(write) is { } bytes)
            {
                samples.Add(bytes);
            }
        }

        Assert.True(samples.Count >= Samples / 2, "The log was reset under most samples.");
        samples.Sort();
        return samples[samples.Count / 2];
    }
}

public sealed class SqliteOrderingQueueCostTests(ITestOutputHelper output) : OrderingQueueCostTests(output)
{
    protected override string Backend => "SQLite";

    protected override Task<Dictionary<string, string?>> StorageAsync() => Task.FromResult(new Dictionary<string, string?>());

    private SqliteConnection Open() => new($"Data Source={Path.Combine(Silo.DataPath, "relay.db")};Pooling=False");

    protected override async Task FillAsync(string queue, IReadOnlyList<string> ids)
    {
        await using var connection = Open();
        await connection.OpenAsync();
        await using var transaction = connection.BeginTransaction();
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "PRAGMA busy_timeout = 10000; INSERT INTO ordering_queue (queue_key, seq, message_id) VALUES ($queue, $seq, $message)";
        command.Parameters.AddWithValue("$queue", queue);
        var seq = command.Parameters.Add("$seq", SqliteType.Integer);
        var message = command.Parameters.Add("$message", SqliteType.Text);
        for (var i = 0; i < ids.Count; i++)
        {
            seq.Value = i + 1;
            message.Value = ids[i];
            await command.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
    }

    /// <summary>
    /// The WAL's size after the write, emptied just before (a TRUNCATE checkpoint): its frames, each a page written and its
    /// 24-byte header. Null when the checkpoint could not empty it (a reader or the writer was in the way).
    /// </summary>
    protected override async Task<long?> LoggedBytesAsync(Func<Task> write)
    {
        await using var connection = Open();
        await connection.OpenAsync();
        await ScalarAsync(connection, "PRAGMA busy_timeout = 10000");
        await using (var checkpoint = connection.CreateCommand())
        {
            checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
            await using var reader = await checkpoint.ExecuteReaderAsync();
            await reader.ReadAsync();
            if (reader.GetInt64(0) != 0)
            {
                return null;
            }
        }

        var wal = new FileInfo(Path.Combine(Silo.DataPath, "relay.db-wal"));
        wal.Refresh();
        if (wal.Exists && wal.Length != 0)
        {
            return null;
        }

        await write();
        wal.Refresh();
        // Less the WAL's own 32-byte header, written once per restart of the log.
        return wal.Length - 32;
    }

    private static async Task<long> ScalarAsync(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (long)(await command.ExecuteScalarAsync())!;
    }
}

/// <summary>On a PostgreSQL server of its own: the WAL is the whole server's, and other tests' databases would add to it.</summary>
public sealed class PostgresOrderingQueueCostTests(ITestOutputHelper output) : OrderingQueueCostTests(output)
{
    private PostgresServer? _server;
    private string _connectionString = "";

    protected override string Backend => "PostgreSQL";

    protected override async Task<Dictionary<string, string?>> StorageAsync()
    {
        _server = await PostgresServer.StartNewAsync();
        _connectionString = await _server.CreateDatabaseAsync();
        return new Dictionary<string, string?>
        {
            ["Relay:Storage:Provider"] = "AdoNet",
            ["Relay:Storage:ConnectionString"] = _connectionString,
            ["Relay:Storage:Migrate"] = "true",
        };
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    protected override async Task FillAsync(string queue, IReadOnlyList<string> ids)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "INSERT INTO ordering_queue (queue_key, seq, message_id) SELECT $1, u.seq, u.id FROM unnest($2::text[]) WITH ORDINALITY AS u(id, seq)",
            connection);
        command.Parameters.AddWithValue(queue);
        command.Parameters.AddWithValue(ids.ToArray());
        await command.ExecuteNonQueryAsync();
    }

    protected override async Task<long?> LoggedBytesAsync(Func<Task> write)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var position = new NpgsqlCommand("SELECT pg_current_wal_insert_lsn()::text", connection);
        var before = (string)(await position.ExecuteScalarAsync())!;
        await write();
        await using var difference = new NpgsqlCommand("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1::pg_lsn)::bigint", connection);
        difference.Parameters.AddWithValue(before);
        return (long)(await difference.ExecuteScalarAsync())!;
    }
}
