using Relay.Grains.Delivery;
using Relay.Storage.AdoNet.Schema;

namespace Relay.Storage.AdoNet.Tests;

public sealed class PostgresSchemaTests
{
    private static readonly string[] ScriptNames =
        ["0001_orleans_clustering.sql", "0002_orleans_persistence.sql", "0003_orleans_reminders.sql", "0004_relay.sql", "0005_sender.sql", "0006_portal.sql", "0007_relay_storage.sql", "0008_relay_content.sql", "0009_due_index.sql", "0010_ordering_queue.sql", "0011_catalog.sql"];

    [Fact]
    public void The_embedded_scripts_are_the_files_of_sql_postgresql_in_name_order()
    {
        var folder = Path.Combine(RepositoryRoot(), "sql", "postgresql");
        var files = Directory.GetFiles(folder, "*.sql").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();

        Assert.Equal(ScriptNames, files);
        Assert.Equal(files, PostgresSchema.Scripts.Select(s => s.Name));
        Assert.Equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], PostgresSchema.Scripts.Select(s => s.Version));
        foreach (var script in PostgresSchema.Scripts)
        {
            Assert.Equal(File.ReadAllText(Path.Combine(folder, script.Name)), script.Sql);
        }
    }

    [Fact]
    public async Task A_scheduler_s_poll_reads_the_due_entries_only_whatever_the_backlog_not_yet_due()
    {
        await using var dataSource = NpgsqlDataSource.Create(await CreateDatabaseAsync());
        await ApplyEveryScriptAsync(dataSource);
        // 200,000 deliveries due in 12 hours (the backlog of a 12-hour contract) and 5 due now, over all 1,024 shards.
        await using (var fill = dataSource.CreateCommand("""
            INSERT INTO deliveries (destination, message_id, status, attempts, accepted_at, updated_at, due_at, content_hash, shard)
            SELECT 'later', 'm' || i, 'InRetry', 1, now(), now(), now() + interval '12 hours' + i * interval '1 ms', 'h', i % 1024
            FROM generate_series(1, 200000) AS i;
            INSERT INTO deliveries (destination, message_id, status, attempts, accepted_at, updated_at, due_at, content_hash, shard)
            SELECT 'now', 'd' || i, 'InRetry', 1, now(), now(), now() - interval '1 second', 'h', i
            FROM generate_series(1, 5) AS i;
            ANALYZE deliveries;
            """))
        {
            await fill.ExecuteNonQueryAsync();
        }

        await using var explain = dataSource.CreateCommand("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + PostgresRelayStore.DueDeliveriesSql);
        explain.Parameters.AddWithValue("from", 0);
        explain.Parameters.AddWithValue("to", 127);
        explain.Parameters.AddWithValue("now", DateTime.UtcNow);
        explain.Parameters.AddWithValue("excluded", Array.Empty<string>());
        explain.Parameters.AddWithValue("limit", 100);
        var plan = (string)(await explain.ExecuteScalarAsync())!;

        using var json = System.Text.Json.JsonDocument.Parse(plan);
        var root = json.RootElement[0].GetProperty("Plan");
        var buffers = root.GetProperty("Shared Hit Blocks").GetInt32() + root.GetProperty("Shared Read Blocks").GetInt32();
        Assert.Contains("ix_deliveries_due_at", plan);
        // On (shard, due_at) this read every entry of shards 0-127 (about 25,000, over 100 blocks).
        Assert.True(buffers < 30, $"The poll read {buffers} blocks: {plan}");
    }

    [Fact]
    public async Task Every_script_applied_again_fails_nothing_and_changes_nothing()
    {
        await using var dataSource = NpgsqlDataSource.Create(await CreateDatabaseAsync());
        await ApplyEveryScriptAsync(dataSource);
        var first = await DescribeCatalogAsync(dataSource);

        await ApplyEveryScriptAsync(dataSource);
        var second = await DescribeCatalogAsync(dataSource);

        // The description is of the whole schema (a sample of it, to know it is not empty).
        Assert.Contains("table deliveries.message_id text collation C not null", first);
        Assert.Contains(first, line => line.StartsWith("table deliveries.sender text", StringComparison.Ordinal));
        Assert.Contains(first, line => line.StartsWith("function writetostorage(", StringComparison.Ordinal));
        Assert.Contains(first, line => line.StartsWith("query WriteToStorageKey ", StringComparison.Ordinal));
        Assert.Contains(first, line => line.StartsWith("version 4 0004_relay.sql ", StringComparison.Ordinal));
        Assert.Equal(first, second);
    }

    [Fact]
    public async Task Apply_applies_the_missing_scripts_and_afterwards_none()
    {
        await using var dataSource = NpgsqlDataSource.Create(await CreateDatabaseAsync());

        var applied = await PostgresSchema.ApplyAsync(dataSource);
        var again = await PostgresSchema.ApplyAsync(dataSource);

        Assert.Equal(ScriptNames, applied);
        Assert.Empty(again);
        Assert.Empty(await PostgresSchema.FindMissingAsync(dataSource));
        await PostgresSchema.CheckAsync(dataSource);
    }

    [Fact]
    public async Task Silos_applying_the_schema_at_the_same_time_apply_each_script_once()
    {
        var connectionString = await CreateDatabaseAsync();
        var dataSources = Enumerable.Range(0, 4).Select(_ => NpgsqlDataSource.Create(connectionString)).ToArray();
        try
        {
            var applied = await Task.WhenAll(dataSources.Select(ds => PostgresSchema.ApplyAsync(ds)));

            Assert.Equal(ScriptNames, applied.SelectMany(a => a).Order(StringComparer.Ordinal));
            await PostgresSchema.CheckAsync(dataSources[0]);
        }
        finally
        {
            foreach (var dataSource in dataSources)
            {
                await dataSource.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Check_of_an_empty_database_names_every_script_and_the_migrate_switch()
    {
        await using var dataSource = NpgsqlDataSource.Create(await CreateDatabaseAsync() + ";Password=never-shown-1");

        var refused = await Assert.ThrowsAsync<RelaySchemaException>(() => PostgresSchema.CheckAsync(dataSource));

        Assert.Equal(ScriptNames, refused.MissingScripts);
        Assert.Contains("has no Relay schema", refused.Message);
        foreach (var name in ScriptNames)
        {
            Assert.Contains("sql/postgresql/" + name, refused.Message);
        }

        Assert.Contains("Relay:Storage:Migrate=true", refused.Message);
        Assert.DoesNotContain("never-shown-1", refused.Message);
    }

    [Fact]
    public async Task Check_of_an_older_schema_names_the_missing_scripts_only()
    {
        await using var dataSource = NpgsqlDataSource.Create(await CreateDatabaseAsync());
        await ApplyEveryScriptAsync(dataSource, PostgresSchema.Scripts.Take(2));

        var refused = await Assert.ThrowsAsync<RelaySchemaException>(() => PostgresSchema.CheckAsync(dataSource));

        Assert.Equal(ScriptNames[2..], refused.MissingScripts);
        Assert.Contains("older Relay schema", refused.Message);
        Assert.DoesNotContain(ScriptNames[0], refused.Message);
        Assert.Contains(ScriptNames[3], refused.Message);
    }

    [Fact]
    public async Task Script_7_moves_the_delivery_states_stored_by_orleans_storage_to_relay_storage()
    {
        var connectionString = await CreateDatabaseAsync();
        var key = "billing/order-" + Guid.NewGuid().ToString("N");
        var legacy = new DeliveryState
        {
            MessageId = key["billing/".Length..],
            Destination = "billing",
            Payload = "{\"amount\":200}"u8.ToArray(),
            ContentType = "application/json",
            ContentHash = "sha256:x",
            Status = DeliveryStatus.InRetry,
            Attempts = 2,
        };
        var json = new DeliveryStateJsonSerializer(null!).Serialize(legacy).ToArray();
        await using (var dataSource = NpgsqlDataSource.Create(connectionString))
        {
            await ApplyEveryScriptAsync(dataSource, PostgresSchema.Scripts.Where(s => s.Version < 7));
            // As Orleans's ADO.NET grain storage stored a string-keyed grain's state: the state name, the key.
            await using var insert = dataSource.CreateCommand("""
                INSERT INTO OrleansStorage (grainidhash, grainidn0, grainidn1, graintypehash, graintypestring,
                    grainidextensionstring, serviceid, payloadbinary, modifiedon, version)
                VALUES (1, 0, 0, 2, 'delivery', @key, 'relay-tests', @data, now(), 3)
                """);
            insert.Parameters.AddWithValue("key", key);
            insert.Parameters.AddWithValue("data", json);
            await insert.ExecuteNonQueryAsync();
        }

        await using var host = await PostgresTestHost.StartAsync(connectionString, migrate: true);
        var read = new GrainState<DeliveryState>(new DeliveryState());
        await host.GrainStorage.ReadStateAsync("delivery", GrainId.Create("delivery", key), read);

        Assert.True(read.RecordExists);
        Assert.Equal(DeliveryStatus.InRetry, read.State!.Status);
        Assert.Equal(2, read.State.Attempts);
        Assert.Equal(legacy.Payload, read.State.Payload);
        await using var left = host.DataSource.CreateCommand("SELECT count(*) FROM OrleansStorage WHERE graintypestring = 'delivery'");
        Assert.Equal(0L, (long)(await left.ExecuteScalarAsync())!);

        // And it goes on from there: the next write is an update of the moved state.
        read.State.Attempts = 3;
        await host.GrainStorage.WriteStateAsync("delivery", GrainId.Create("delivery", key), read);
    }

    private static async Task<string> CreateDatabaseAsync() => await (await PostgresServer.Shared).CreateDatabaseAsync();

    /// <summary>Applies scripts as an operator does with psql: each as it is, in a transaction of its own.</summary>
    private static async Task ApplyEveryScriptAsync(NpgsqlDataSource dataSource, IEnumerable<SchemaScript>? scripts = null)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        foreach (var script in scripts ?? PostgresSchema.Scripts)
        {
            await using var transaction = await connection.BeginTransactionAsync();
            await PostgresSchema.ExecuteScriptAsync(connection, script, CancellationToken.None);
            await transaction.CommitAsync();
        }
    }

    /// <summary>
    /// One line per thing the scripts make: tables and indexes with their oids (a dropped and remade one has a new
    /// oid), columns with type, collation, nullability and default; indexes and constraints by definition; functions
    /// by signature, oid and body; Orleans's queries; the version rows with their time of application (which a
    /// repeated script must leave alone).
    /// </summary>
    private static async Task<List<string>> DescribeCatalogAsync(NpgsqlDataSource dataSource)
    {
        const string sql = """
            SELECT 'relation ' || c.relname || ' ' || c.relkind::text || ' oid ' || c.oid
            FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace
            UNION ALL
            SELECT 'table ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                   || COALESCE(' collation ' || co.collname, '') || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
                   || COALESCE(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
            FROM pg_attribute a
            JOIN pg_class c ON c.oid = a.attrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
            LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> 100
            LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
            UNION ALL
            SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
            UNION ALL
            SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
            FROM pg_constraint WHERE connamespace = 'public'::regnamespace
            UNION ALL
            SELECT 'function ' || p.oid::regprocedure::text || ' oid ' || p.oid || ' ' || md5(pg_get_functiondef(p.oid))
            FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
            UNION ALL
            SELECT 'query ' || QueryKey || ' ' || md5(QueryText) FROM OrleansQuery
            UNION ALL
            SELECT 'version ' || version || ' ' || script || ' ' || applied_at FROM relay_schema_version
            ORDER BY 1
            """;
        var lines = new List<string>();
        await using var command = dataSource.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            lines.Add(reader.GetString(0));
        }

        return lines;
    }

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Silo.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"No Silo.sln above {AppContext.BaseDirectory}.");
    }
}
