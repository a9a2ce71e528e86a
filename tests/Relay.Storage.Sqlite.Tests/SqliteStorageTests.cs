using Microsoft.Extensions.DependencyInjection;
using Orleans.Providers;
using Orleans.Storage;
using Relay.Contracts;
using Relay.Core.Messages;
using Xunit.Abstractions;

namespace Relay.Storage.Sqlite.Tests;

/// <summary>What the SQLite backend promises beyond the conformance suite.</summary>
public sealed class SqliteStorageTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly List<string> _folders = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        foreach (var folder in _folders)
        {
            SqliteTestHost.DeleteFolder(folder);
        }

        return Task.CompletedTask;
    }

    private string NewFolder()
    {
        var folder = TempFolder.Create("relay-sqlite-");
        _folders.Add(folder);
        return folder;
    }

    private static Task WriteAsync(StorageUnderTest storage, GrainId grainId, int count) =>
        storage.GrainStorage.WriteStateAsync("state", grainId, new GrainState<CounterState>(new CounterState { Count = count }));

    private static async Task<GrainState<CounterState>> ReadAsync(StorageUnderTest storage, GrainId grainId)
    {
        var state = new GrainState<CounterState>(new CounterState());
        await storage.GrainStorage.ReadStateAsync("state", grainId, state);
        return state;
    }

    [Fact]
    public async Task Concurrent_writes_share_commits()
    {
        const int writes = 500;
        await using var host = SqliteTestHost.Open(NewFolder());
        var storage = host.Storage;
        var grains = Enumerable.Range(0, writes).Select(_ => GrainId.Create("test", Guid.NewGuid().ToString("N"))).ToArray();
        var commitsBefore = host.Database.Commits;

        await Task.WhenAll(grains.Select((grainId, i) => WriteAsync(storage, grainId, i)));

        var commits = host.Database.Commits - commitsBefore;
        output.WriteLine($"{writes} concurrent writes took {commits} commits ({(double)commits / writes:0.###} commits per write).");
        Assert.True(commits < writes, $"{writes} concurrent writes took {commits} commits.");
        Assert.Equal(writes, (await Task.WhenAll(grains.Select(g => ReadAsync(storage, g)))).Count(s => s.RecordExists));
    }

    [Fact]
    public async Task Writers_that_keep_writing_share_commits()
    {
        const int writers = 64, writesEach = 20;
        await using var host = SqliteTestHost.Open(NewFolder());
        var storage = host.Storage;
        var commitsBefore = host.Database.Commits;

        // Like delivery grains: each awaits its write before making the next one.
        await Task.WhenAll(Enumerable.Range(0, writers).Select(async w =>
        {
            await Task.Yield();
            var grainId = GrainId.Create("test", "writer-" + w);
            var state = new GrainState<CounterState>(new CounterState());
            for (var i = 0; i < writesEach; i++)
            {
                state.State!.Count = i;
                await storage.GrainStorage.WriteStateAsync("state", grainId, state);
            }
        }));

        var commits = host.Database.Commits - commitsBefore;
        const int writes = writers * writesEach;
        output.WriteLine($"{writers} writers x {writesEach} sequential writes = {writes} writes took {commits} commits ({(double)commits / writes:0.###} commits per write).");
        Assert.True(commits < writes, $"{writes} writes took {commits} commits.");
    }

    [Fact]
    public async Task A_conflict_inside_a_batch_fails_that_write_only()
    {
        await using var host = SqliteTestHost.Open(NewFolder());
        var storage = host.Storage;
        var contested = GrainId.Create("test", "contested");
        var current = new GrainState<CounterState>(new CounterState { Count = 1 });
        await storage.GrainStorage.WriteStateAsync("state", contested, current);
        var staleETag = current.ETag!;
        await storage.GrainStorage.WriteStateAsync("state", contested, current);
        var others = Enumerable.Range(0, 20).Select(i => GrainId.Create("test", "other-" + i)).ToArray();

        var hold = WriterHold.Hold(host.Database);
        var commitsBefore = host.Database.Commits;
        var before = others[..10].Select((g, i) => WriteAsync(storage, g, i)).ToArray();
        var stale = storage.GrainStorage.WriteStateAsync("state", contested, new GrainState<CounterState>(new CounterState { Count = 2 }, staleETag));
        var after = others[10..].Select((g, i) => WriteAsync(storage, g, 10 + i)).ToArray();
        await hold.ReleaseAsync();

        await Assert.ThrowsAsync<InconsistentStateException>(() => stale);
        await Task.WhenAll(before.Concat(after));
        Assert.Equal(2, host.Database.Commits - commitsBefore);
        Assert.Equal(1, (await ReadAsync(storage, contested)).State!.Count);
        for (var i = 0; i < others.Length; i++)
        {
            Assert.Equal(i, (await ReadAsync(storage, others[i])).State!.Count);
        }
    }

    [Fact]
    public async Task A_statement_sqlite_refuses_inside_a_batch_fails_that_write_only_and_whole()
    {
        await using var host = SqliteTestHost.Open(NewFolder());
        var storage = host.Storage;
        var row = new DeliveryRow
        {
            MessageId = "bad", Destination = null!, Status = DeliveryStatus.Pending, Attempts = 0,
            AcceptedAt = DateTimeOffset.UnixEpoch, UpdatedAt = DateTimeOffset.UnixEpoch, ContentHash = "h", Shard = 0,
        };
        var badGrain = GrainId.Create("delivery", "bad");
        var others = Enumerable.Range(0, 20).Select(i => GrainId.Create("test", "other-" + i)).ToArray();

        var hold = WriterHold.Hold(host.Database);
        var commitsBefore = host.Database.Commits;
        var before = others[..10].Select((g, i) => WriteAsync(storage, g, i)).ToArray();
        var bad = storage.GrainStorage.WriteStateAsync("delivery", badGrain, new GrainState<TestDeliveryState>(TestDeliveryState.From(row)));
        var after = others[10..].Select((g, i) => WriteAsync(storage, g, 10 + i)).ToArray();
        await hold.ReleaseAsync();

        await Assert.ThrowsAnyAsync<Exception>(() => bad);
        await Task.WhenAll(before.Concat(after));
        Assert.Equal(2, host.Database.Commits - commitsBefore);
        var badState = new GrainState<TestDeliveryState>(new TestDeliveryState());
        await storage.GrainStorage.ReadStateAsync("delivery", badGrain, badState);
        Assert.False(badState.RecordExists);
        Assert.All(await Task.WhenAll(others.Select(g => ReadAsync(storage, g))), s => Assert.True(s.RecordExists));
    }

    [Fact]
    public async Task Everything_written_survives_closing_and_reopening_the_database()
    {
        var folder = NewFolder();
        var grainId = GrainId.Create("test", "survivor");
        var reminderGrain = GrainId.Create("scheduler", "0");
        var row = new DeliveryRow
        {
            MessageId = "order-123",
            Destination = "billing",
            Status = DeliveryStatus.InRetry,
            Attempts = 1,
            AcceptedAt = new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero),
            UpdatedAt = new DateTimeOffset(2026, 11, 23, 10, 0, 1, TimeSpan.Zero),
            DueAt = new DateTimeOffset(2026, 11, 23, 10, 0, 6, TimeSpan.Zero),
            ContentHash = "h",
            Shard = new DeliveryKey("billing", "order-123").Shard,
        };
        string? stateETag, reminderETag;
        await using (var first = SqliteTestHost.Open(folder))
        {
            var state = new GrainState<CounterState>(new CounterState { Count = 7 });
            await first.Storage.GrainStorage.WriteStateAsync("state", grainId, state);
            stateETag = state.ETag;
            await first.Storage.GrainStorage.WriteStateAsync("delivery", GrainId.Create("delivery", "billing/order-123"),
                new GrainState<TestDeliveryState>(TestDeliveryState.From(row, new AuditEntry
                {
                    MessageId = "order-123", Destination = "billing", Sequence = 1, Kind = AuditKind.Attempt,
                    At = row.UpdatedAt, Attempt = 1, Outcome = AttemptOutcome.RetryableFailure, StatusCode = 503,
                })));
            reminderETag = await first.Storage.Reminders.UpsertRow(new ReminderEntry
            {
                GrainId = reminderGrain, ReminderName = "tick", StartAt = DateTime.UnixEpoch, Period = TimeSpan.FromMinutes(1),
            });
        }

        await using var second = SqliteTestHost.Open(folder);
        var read = await ReadAsync(second.Storage, grainId);
        Assert.True(read.RecordExists);
        Assert.Equal(7, read.State!.Count);
        Assert.Equal(stateETag, read.ETag);
        Assert.Equal(reminderETag, (await second.Storage.Reminders.ReadRow(reminderGrain, "tick"))?.ETag);
        var message = await second.Storage.Store.GetMessageAsync("order-123", includeAudit: true);
        Assert.Equal(row, Assert.Single(message!.Deliveries));
        Assert.Single(message.Audit);

        // ETags keep growing across a restart: one handed out before it is never handed out again.
        var again = new GrainState<CounterState>(new CounterState { Count = 8 }, stateETag!);
        await second.Storage.GrainStorage.WriteStateAsync("state", grainId, again);
        Assert.True(long.Parse(again.ETag!) > long.Parse(reminderETag!));
    }

    [Fact]
    public async Task Closing_finishes_the_writes_already_queued()
    {
        var folder = NewFolder();
        var grains = Enumerable.Range(0, 100).Select(i => GrainId.Create("test", i.ToString())).ToArray();
        Task[] writes;
        await using (var first = SqliteTestHost.Open(folder))
        {
            var storage = first.Storage;
            writes = grains.Select((g, i) => WriteAsync(storage, g, i)).ToArray();
        }

        await Task.WhenAll(writes);
        await using var second = SqliteTestHost.Open(folder);
        foreach (var grainId in grains)
        {
            Assert.True((await ReadAsync(second.Storage, grainId)).RecordExists);
        }
    }

    [Fact]
    public async Task A_write_after_closing_is_refused()
    {
        var host = SqliteTestHost.Open(NewFolder());
        var storage = host.Storage;
        await host.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => WriteAsync(storage, GrainId.Create("test", "late"), 1));
        Assert.False(await storage.Store.PingAsync());
        Assert.False(await storage.Store.CheckWriteAsync());
    }

    [Fact]
    public async Task The_database_is_one_file_in_wal_mode_in_the_data_folder()
    {
        var folder = NewFolder();
        await using var host = SqliteTestHost.Open(folder);

        Assert.Equal(Path.Combine(Path.GetFullPath(folder), "relay.db"), host.Database.DatabasePath);
        Assert.True(File.Exists(host.Database.DatabasePath));
        await using var connection = await host.Database.OpenReadConnectionAsync(CancellationToken.None);
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", (string?)command.ExecuteScalar());
    }

    [Fact]
    public async Task Relay_storage_is_also_the_default_grain_storage()
    {
        await using var host = SqliteTestHost.Open(NewFolder());

        var relay = host.Services.GetRequiredKeyedService<IGrainStorage>("relay");
        Assert.Same(relay, host.Services.GetRequiredKeyedService<IGrainStorage>(ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME));
        Assert.Same(relay, host.Services.GetRequiredService<IGrainStorage>());
        Assert.IsType<SqliteReminderTable>(host.Services.GetRequiredService<IReminderTable>());
    }

    [Theory]
    [InlineData("Full")]
    [InlineData("normal")]
    public void A_known_synchronous_mode_is_accepted(string mode)
    {
        new ServiceCollection().AddRelaySqliteStorage(NewFolder(), mode);
    }

    [Fact]
    public void An_unknown_synchronous_mode_is_refused_at_registration()
    {
        var error = Assert.Throws<ArgumentException>(() => new ServiceCollection().AddRelaySqliteStorage(NewFolder(), "Sometimes"));
        Assert.Contains("Sometimes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_large_purge_runs_in_chunks_and_removes_everything_due()
    {
        await using var host = SqliteTestHost.Open(NewFolder());
        var at = new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var total = SqliteRelayStore.PurgeChunk * 2 + 17;
        var rows = Enumerable.Range(0, 4).Select(i => new DeliveryRow
        {
            // Finished: the audit of a delivery not finished is kept whatever its age.
            MessageId = $"m{i}", Destination = "billing", Status = DeliveryStatus.Delivered, Attempts = 1,
            AcceptedAt = at, UpdatedAt = at, ContentHash = "h", Shard = 0,
        }).ToArray();
        var perRow = (total + rows.Length - 1) / rows.Length;
        var written = 0;
        foreach (var row in rows)
        {
            var audit = Enumerable.Range(1, Math.Min(perRow, total - written)).Select(s => new AuditEntry
            {
                MessageId = row.MessageId, Destination = row.Destination, Sequence = s, Kind = AuditKind.Attempt, At = at,
            }).ToArray();
            written += audit.Length;
            await host.Storage.GrainStorage.WriteStateAsync("delivery", GrainId.Create("delivery", "billing/" + row.MessageId),
                new GrainState<TestDeliveryState>(TestDeliveryState.From(row, audit)));
        }

        var commitsBefore = host.Database.Commits;
        var purged = await host.Storage.Store.PurgeAuditAsync(at.AddTicks(TimeSpan.TicksPerMillisecond));

        Assert.Equal(total, purged);
        Assert.Equal(3, host.Database.Commits - commitsBefore);
    }

    [Fact]
    public async Task A_database_of_schema_1_gains_the_sender_column_and_keeps_its_rows()
    {
        var folder = NewFolder();
        var at = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
        var old = new DeliveryRow
        {
            MessageId = "before-upgrade", Destination = "billing", Status = DeliveryStatus.Delivered, Attempts = 1,
            AcceptedAt = at, UpdatedAt = at, ContentHash = "h", Shard = 0,
        };
        await using (var host = SqliteTestHost.Open(folder))
        {
            await host.Storage.GrainStorage.WriteStateAsync("delivery", GrainId.Create("delivery", "billing/" + old.MessageId),
                new GrainState<TestDeliveryState>(TestDeliveryState.From(old)));
        }

        // Turn the file back into what Relay before schema 2 wrote.
        var file = Directory.GetFiles(folder, "*.db").Single();
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={file};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "ALTER TABLE deliveries DROP COLUMN sender; DELETE FROM schema_version; INSERT INTO schema_version VALUES (1, 0);";
            await command.ExecuteNonQueryAsync();
        }

        await using (var host = SqliteTestHost.Open(folder))
        {
            var kept = Assert.Single((await host.Storage.Store.GetMessageAsync(old.MessageId, includeAudit: false))!.Deliveries);
            Assert.Equal(old, kept);
            var sent = old with { MessageId = "after-upgrade", Sender = "webshop" };
            await host.Storage.GrainStorage.WriteStateAsync("delivery", GrainId.Create("delivery", "billing/" + sent.MessageId),
                new GrainState<TestDeliveryState>(TestDeliveryState.From(sent)));
            Assert.Equal("webshop", Assert.Single((await host.Storage.Store.GetMessageAsync(sent.MessageId, includeAudit: false))!.Deliveries).Sender);
        }

        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={file};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT MAX(version) FROM schema_version";
            Assert.Equal((long)Relay.Storage.Sqlite.Schema.SqliteSchema.CurrentVersion, await command.ExecuteScalarAsync());
        }
    }

    [Fact]
    public async Task A_database_of_schema_3_keeps_its_delivery_states_whole_until_their_next_write_stores_the_content_apart()
    {
        var folder = NewFolder();
        var grainId = GrainId.Create("delivery", "billing/before-4");
        var state = new Relay.Grains.Delivery.DeliveryState
        {
            MessageId = "before-4",
            Destination = "billing",
            Payload = "{\"order\":4}"u8.ToArray(),
            ContentType = "application/json",
            Headers = new Dictionary<string, string> { ["X-Order"] = "4" },
            ContentHash = "hash-4",
            AcceptedAt = new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero),
            UpdatedAt = new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero),
            Status = DeliveryStatus.InRetry,
        };
        byte[] whole;
        await using (var host = SqliteTestHost.Open(folder))
        {
            whole = host.Storage.Serializer.Serialize(state).ToArray();
        }

        // Turn the file back into what Relay before schema 4 wrote: the state whole, no content table.
        var file = Directory.GetFiles(folder, "*.db").Single();
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={file};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = """
                DROP TABLE grain_content; DELETE FROM schema_version; INSERT INTO schema_version VALUES (3, 0);
                INSERT INTO grain_state (grain_id, state_name, version, data) VALUES ($grain, 'delivery', 1, $data);
                """;
            command.Parameters.AddWithValue("$grain", grainId.ToString());
            command.Parameters.AddWithValue("$data", whole);
            await command.ExecuteNonQueryAsync();
        }

        await using (var host = SqliteTestHost.Open(folder))
        {
            var read = new GrainState<Relay.Grains.Delivery.DeliveryState>(new());
            await host.Storage.GrainStorage.ReadStateAsync("delivery", grainId, read);
            Assert.Equal(state.Payload, read.State!.Payload);
            Assert.Equal("4", read.State.Headers["X-Order"]);

            Assert.True(read.State.ContentUnsaved); // its content is not stored apart yet: the next write stores it
            read.State.Attempts = 1;
            await host.Storage.GrainStorage.WriteStateAsync("delivery", grainId, read);

            var again = new GrainState<Relay.Grains.Delivery.DeliveryState>(new());
            await host.Storage.GrainStorage.ReadStateAsync("delivery", grainId, again);
            Assert.Equal(state.Payload, again.State!.Payload);
            Assert.Equal(1, again.State.Attempts);
        }

        Assert.Equal((long)Relay.Storage.Sqlite.Schema.SqliteSchema.CurrentVersion, await ScalarAsync(file, "SELECT MAX(version) FROM schema_version"));
        Assert.Equal(1L, await ScalarAsync(file, "SELECT COUNT(*) FROM grain_content"));
    }

    [Fact]
    public async Task A_scheduler_s_poll_reads_the_due_index_by_time_first()
    {
        var folder = NewFolder();
        await using (SqliteTestHost.Open(folder))
        {
        }

        var file = Directory.GetFiles(folder, "*.db").Single();
        var plan = await PlanAsync(file, SqliteRelayStore.DueDeliveriesSql
            .Replace("$from", "0", StringComparison.Ordinal).Replace("$to", "127", StringComparison.Ordinal)
            .Replace("$now", "1", StringComparison.Ordinal).Replace("$excluded", "'[]'", StringComparison.Ordinal)
            .Replace("$limit", "100", StringComparison.Ordinal));

        // A range on due_at, read in order: no sort of every due entry, no scan of entries not yet due.
        Assert.True(plan.Contains("SEARCH deliveries USING INDEX ix_deliveries_due_at (due_at>? AND due_at<?)", StringComparison.Ordinal), plan);
        Assert.DoesNotContain("ix_deliveries_due ", plan + " ");
        Assert.Equal(0L, await ScalarAsync(file, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'ix_deliveries_due'"));
    }

    [Fact]
    public async Task A_database_of_schema_2_gains_the_portal_indexes_and_its_queries_use_them()
    {
        var folder = NewFolder();
        await using (SqliteTestHost.Open(folder))
        {
        }

        // Turn the file back into what Relay before schema 3 wrote.
        var file = Directory.GetFiles(folder, "*.db").Single();
        await ExecuteAsync(file, "DROP INDEX ix_deliveries_topic; DROP INDEX ix_deliveries_updated; DELETE FROM schema_version; INSERT INTO schema_version VALUES (2, 0);");
        Assert.Equal(2L, await ScalarAsync(file, "SELECT MAX(version) FROM schema_version"));

        await using (SqliteTestHost.Open(folder))
        {
        }

        Assert.Equal((long)Relay.Storage.Sqlite.Schema.SqliteSchema.CurrentVersion, await ScalarAsync(file, "SELECT MAX(version) FROM schema_version"));
        Assert.Equal(2L, await ScalarAsync(file,
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name IN ('ix_deliveries_topic', 'ix_deliveries_updated')"));
        // The overview's counts and the list by topic read their index, not the whole table.
        Assert.Contains("SEARCH deliveries USING COVERING INDEX ix_deliveries_updated", await PlanAsync(file, SqliteRelayStore.CountChangedSinceSql.Replace("$since", "0", StringComparison.Ordinal)));
        Assert.Contains("SEARCH deliveries USING COVERING INDEX ix_deliveries_topic", await PlanAsync(file,
            "SELECT DISTINCT accepted_at, message_id FROM deliveries WHERE topic = 'orders' ORDER BY accepted_at DESC, message_id DESC LIMIT 51"));
    }

    private static async Task ExecuteAsync(string file, string sql)
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={file};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<object?> ScalarAsync(string file, string sql)
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={file};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync();
    }

    private static async Task<string> PlanAsync(string file, string sql)
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={file};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + sql;
        await using var reader = await command.ExecuteReaderAsync();
        var plan = new System.Text.StringBuilder();
        while (await reader.ReadAsync())
        {
            plan.AppendLine(reader.GetString(3));
        }

        return plan.ToString();
    }
}
