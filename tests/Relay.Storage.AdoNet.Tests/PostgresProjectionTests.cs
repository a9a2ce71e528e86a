using System.Text.Json;
using Relay.Core.Messages;
using Relay.Grains.Delivery;

namespace Relay.Storage.AdoNet.Tests;

/// <summary>
/// What the conformance suite cannot see from outside: that the grain state, the delivery row and the audit are one
/// transaction, that concurrent writes share one, and how a delivery state is stored.
/// </summary>
public sealed class PostgresProjectionTests(PostgresStorageFixture fixture) : IClassFixture<PostgresStorageFixture>
{
    private static readonly DateTimeOffset BaseTime = new(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);

    private PostgresTestHost Host => fixture.Host;

    [Fact]
    public async Task Each_transaction_of_the_writer_is_measured_with_its_duration_and_its_writes()
    {
        // The meter is the process's: other tests' writes may be measured too, so only this test's lower bound counts.
        var transactions = 0;
        var writes = 0L;
        var seconds = 0.0;
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == Relay.Core.Telemetry.RelayTelemetry.Name && instrument.Name.StartsWith("relay.storage.transaction.", StringComparison.Ordinal))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
        {
            if (IsPostgres(tags))
            {
                Interlocked.Increment(ref transactions);
                Interlocked.Exchange(ref seconds, value);
            }
        });
        listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) =>
        {
            if (IsPostgres(tags))
            {
                Interlocked.Add(ref writes, value);
            }
        });
        listener.Start();

        await Task.WhenAll(Enumerable.Range(0, 3).Select(_ =>
        {
            var state = NewDelivery(DeliveryStatus.InRetry);
            return Host.GrainStorage.WriteStateAsync("delivery", GrainIdOf(state), new GrainState<DeliveryState>(state));
        }));

        Assert.InRange(transactions, 1, int.MaxValue);
        Assert.InRange(writes, 3, long.MaxValue);
        Assert.True(seconds > 0, $"{seconds} s");

        static bool IsPostgres(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "relay.storage" && tag.Value is "postgresql")
                {
                    return true;
                }
            }

            return false;
        }
    }

    [Fact]
    public async Task A_delivery_state_its_row_and_its_audit_are_written_by_one_transaction()
    {
        var state = NewDelivery(DeliveryStatus.InRetry);
        state.PendingAudit.Add(Attempt(state, 1));
        var grainState = new GrainState<DeliveryState>(state);
        await Host.GrainStorage.WriteStateAsync("delivery", GrainIdOf(state), grainState);

        var first = await TransactionsOfAsync(state);

        state.Status = DeliveryStatus.Delivered;
        state.PendingAudit.Clear();
        state.PendingAudit.Add(Attempt(state, 2));
        await Host.GrainStorage.WriteStateAsync("delivery", GrainIdOf(state), grainState);

        var second = await TransactionsOfAsync(state);

        // xmin is the transaction that wrote a row version: one per write, shared by all three.
        Assert.Equal([first.State], first.Deliveries);
        Assert.Equal([first.State], first.Audit);
        Assert.Equal([second.State], second.Deliveries);
        Assert.Equal([first.State, second.State], second.Audit);
        Assert.NotEqual(first.State, second.State);
    }

    [Fact]
    public async Task A_projection_the_database_refuses_undoes_the_state_write()
    {
        var state = NewDelivery(DeliveryStatus.InRetry);
        var grainState = new GrainState<DeliveryState>(state);
        await Host.GrainStorage.WriteStateAsync("delivery", GrainIdOf(state), grainState);
        var eTag = grainState.ETag;
        var key = state.Key;

        // The state itself is fine for the grain storage; the delivery row it projects is not (no destination).
        state.Destination = null!;
        state.Status = DeliveryStatus.Delivered;
        await Assert.ThrowsAsync<PostgresException>(() => Host.GrainStorage.WriteStateAsync("delivery", GrainIdOf(key), grainState));

        var read = new GrainState<DeliveryState>(new DeliveryState());
        await Host.GrainStorage.ReadStateAsync("delivery", GrainIdOf(key), read);
        Assert.Equal(eTag, read.ETag);
        Assert.Equal(DeliveryStatus.InRetry, read.State!.Status);
        var row = Assert.Single((await Host.Storage.Store.GetMessageAsync(key.MessageId, includeAudit: false))!.Deliveries);
        Assert.Equal(DeliveryStatus.InRetry, row.Status);
    }

    [Fact]
    public async Task The_delivery_state_is_stored_as_json_its_content_apart_and_read_back_whole()
    {
        var state = NewDelivery(DeliveryStatus.InRetry);
        state.Headers["X-Tenant"] = "acme";
        state.ResponseHeaders = new() { ["Retry-After"] = "5", ["X-Note"] = "<é & \"q\">" };
        state.PendingAudit.Add(Attempt(state, 1));
        await Host.GrainStorage.WriteStateAsync("delivery", GrainIdOf(state), new GrainState<DeliveryState>(state));

        var stored = await ScalarAsync<string>(
            "SELECT convert_from(data, 'UTF8') FROM relay_grain_state WHERE state_name = 'delivery' AND grain_id = @key",
            GrainIdOf(state).ToString());
        var content = await ScalarAsync<string>(
            "SELECT convert_from(content, 'UTF8') FROM relay_grain_content WHERE state_name = 'delivery' AND grain_id = @key",
            GrainIdOf(state).ToString());
        var read = new GrainState<DeliveryState>(new DeliveryState());
        await Host.GrainStorage.ReadStateAsync("delivery", GrainIdOf(state), read);

        using var json = JsonDocument.Parse(stored);
        Assert.Equal(state.MessageId, json.RootElement.GetProperty("messageId").GetString());
        Assert.Equal("", json.RootElement.GetProperty("payload").GetString());
        Assert.False(json.RootElement.TryGetProperty("pendingAudit", out _));
        using var contentJson = JsonDocument.Parse(content);
        Assert.Equal(Convert.ToBase64String(state.Payload), contentJson.RootElement.GetProperty("payload").GetString());
        Assert.Equal("acme", contentJson.RootElement.GetProperty("headers").GetProperty("X-Tenant").GetString());
        Assert.Equal(state.Payload, read.State!.Payload);
        Assert.Equal("acme", read.State.Headers["X-Tenant"]);
        Assert.Empty(read.State.PendingAudit);
        var row = Assert.Single((await Host.Storage.Store.GetMessageAsync(state.MessageId, includeAudit: false))!.Deliveries);
        Assert.Equal(state.ToRow(), row);
    }

    [Fact]
    public async Task An_attempt_rewrites_the_state_row_but_not_the_content_row()
    {
        var state = NewDelivery(DeliveryStatus.Pending);
        var grainState = new GrainState<DeliveryState>(state);
        await Host.GrainStorage.WriteStateAsync("delivery", GrainIdOf(state), grainState);
        const string contentVersion = "SELECT xmin::text FROM relay_grain_content WHERE state_name = 'delivery' AND grain_id = @key";
        var contentAtAcceptance = await ScalarAsync<string>(contentVersion, GrainIdOf(state).ToString());
        var stateAtAcceptance = (await TransactionsOfAsync(state)).State;

        // As the grain's holder does once a write stored the content; then an attempt.
        state.ContentUnsaved = false;
        state.Attempts = 1;
        state.PendingAudit.Add(Attempt(state, 1));
        await Host.GrainStorage.WriteStateAsync("delivery", GrainIdOf(state), grainState);

        Assert.NotEqual(stateAtAcceptance, (await TransactionsOfAsync(state)).State);
        Assert.Equal(contentAtAcceptance, await ScalarAsync<string>(contentVersion, GrainIdOf(state).ToString()));
    }

    [Fact]
    public async Task A_state_that_is_no_delivery_is_stored_and_projects_nothing()
    {
        var other = GrainId.Create("delivery", "billing/" + Guid.NewGuid().ToString("N"));
        await Host.GrainStorage.WriteStateAsync("delivery", other, new GrainState<CounterState>(new CounterState { Name = "x", Count = 1 }));

        var read = new GrainState<CounterState>(new CounterState());
        await Host.GrainStorage.ReadStateAsync("delivery", other, read);
        Assert.Equal(1, read.State!.Count);
        Assert.Equal(0L, await ScalarAsync<long>("SELECT count(*) FROM deliveries WHERE message_id = @key", other.Key.ToString()!));
    }

    [Fact]
    public async Task Concurrent_writes_share_transactions_each_with_its_row_and_audit()
    {
        var states = Enumerable.Range(0, 64).Select(_ => NewDelivery(DeliveryStatus.InRetry)).ToArray();
        foreach (var state in states)
        {
            state.PendingAudit.Add(Attempt(state, 1));
        }

        await Task.WhenAll(states.Select(state =>
            Host.GrainStorage.WriteStateAsync("delivery", GrainIdOf(state), new GrainState<DeliveryState>(state))));

        var transactions = new HashSet<string>();
        foreach (var state in states)
        {
            var written = await TransactionsOfAsync(state);
            Assert.Equal([written.State], written.Deliveries);
            Assert.Equal([written.State], written.Audit);
            transactions.Add(written.State);
        }

        // The writer takes every write queued while the previous batch commits: 64 writes never need 64 commits.
        Assert.True(transactions.Count < states.Length / 2, $"{transactions.Count} transactions for {states.Length} writes");
    }

    [Fact]
    public async Task Times_are_kept_to_the_millisecond_below_as_on_the_embedded_backend()
    {
        var state = NewDelivery(DeliveryStatus.InRetry);
        state.AcceptedAt = new DateTimeOffset(2026, 11, 23, 12, 0, 0, 123, TimeSpan.FromHours(2)).AddTicks(9999);
        state.DueAt = state.AcceptedAt.AddTicks(-4);
        await Host.GrainStorage.WriteStateAsync("delivery", GrainIdOf(state), new GrainState<DeliveryState>(state));

        var row = Assert.Single((await Host.Storage.Store.GetMessageAsync(state.MessageId, includeAudit: false))!.Deliveries);

        var expected = new DateTimeOffset(2026, 11, 23, 10, 0, 0, 123, TimeSpan.Zero);
        Assert.Equal(expected, row.AcceptedAt);
        Assert.Equal(expected, row.DueAt);
        Assert.Equal(TimeSpan.Zero, row.AcceptedAt.Offset);
    }

    [Fact]
    public async Task Listing_order_is_ordinal_whatever_the_collation_of_the_database()
    {
        var destination = "orders-" + Guid.NewGuid().ToString("N");
        var suffix = Guid.NewGuid().ToString("N")[..8];
        // A linguistic collation puts these in another order (case and punctuation weigh less there).
        string[] ids = [$"a-b{suffix}", $"A_b{suffix}", $"ab{suffix}", $"B{suffix}", $"a.b{suffix}", $"Ab{suffix}"];
        foreach (var id in ids)
        {
            var state = NewDelivery(DeliveryStatus.DeadLettered, id, destination);
            await Host.GrainStorage.WriteStateAsync("delivery", GrainIdOf(state), new GrainState<DeliveryState>(state));
        }

        var page = await Host.Storage.Store.ListMessagesAsync(new MessageQuery { Destination = destination, Limit = 2 });
        var all = new List<string>(page.Items.Select(m => m.MessageId));
        while (page.NextCursor is not null)
        {
            page = await Host.Storage.Store.ListMessagesAsync(new MessageQuery { Destination = destination, Limit = 2, Cursor = page.NextCursor });
            all.AddRange(page.Items.Select(m => m.MessageId));
        }

        var found = await Host.Storage.Store.FindDeliveriesAsync(DeliveryStatus.DeadLettered, destination, 100);

        Assert.Equal(ids.OrderDescending(StringComparer.Ordinal), all);
        Assert.Equal(ids.Order(StringComparer.Ordinal), found.Select(k => k.MessageId));
        var collation = await ScalarAsync<string>("SELECT datlocprovider::text FROM pg_database WHERE datname = current_database()", "");
        Assert.Equal("i", collation);
    }

    private static DeliveryState NewDelivery(DeliveryStatus status, string? messageId = null, string? destination = null) => new()
    {
        MessageId = messageId ?? "msg-" + Guid.NewGuid().ToString("N"),
        Destination = destination ?? "billing-" + Guid.NewGuid().ToString("N")[..8],
        Payload = "{\"amount\":200}"u8.ToArray(),
        ContentType = "application/json",
        ContentHash = "sha256:x",
        Status = status,
        AcceptedAt = BaseTime,
        UpdatedAt = BaseTime,
    };

    private static AuditEntry Attempt(DeliveryState state, int sequence) => new()
    {
        MessageId = state.MessageId,
        Destination = state.Destination,
        Sequence = sequence,
        Kind = AuditKind.Attempt,
        At = BaseTime.AddSeconds(sequence),
        Attempt = sequence,
        Outcome = AttemptOutcome.RetryableFailure,
        StatusCode = 503,
    };

    private static GrainId GrainIdOf(DeliveryState state) => GrainIdOf(state.Key);

    private static GrainId GrainIdOf(DeliveryKey key) => GrainId.Create("delivery", key.ToString());

    private async Task<(string State, string[] Deliveries, string[] Audit)> TransactionsOfAsync(DeliveryState state)
    {
        var grainState = await ScalarAsync<string>(
            "SELECT xmin::text FROM relay_grain_state WHERE state_name = 'delivery' AND grain_id = @key",
            GrainIdOf(state).ToString());
        var deliveries = await ColumnAsync("SELECT xmin::text FROM deliveries WHERE message_id = @key", state.MessageId);
        var audit = await ColumnAsync("SELECT xmin::text FROM audit WHERE message_id = @key ORDER BY sequence", state.MessageId);
        return (grainState, deliveries, audit);
    }

    private async Task<T> ScalarAsync<T>(string sql, string key)
    {
        await using var command = Host.DataSource.CreateCommand(sql);
        command.Parameters.AddWithValue("key", key);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private async Task<string[]> ColumnAsync(string sql, string key)
    {
        var values = new List<string>();
        await using var command = Host.DataSource.CreateCommand(sql);
        command.Parameters.AddWithValue("key", key);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            values.Add(reader.GetString(0));
        }

        return [.. values];
    }

    [Fact]
    public async Task The_portal_queries_can_read_their_indexes_instead_of_the_table()
    {
        // With few rows the planner rightly scans; forbidding that shows which index it would take on a large table.
        var counts = await PlanAsync(PostgresRelayStore.CountChangedSinceSql.Replace("@since", "'2026-11-23T10:00:00Z'::timestamptz", StringComparison.Ordinal));
        var byTopic = await PlanAsync(
            "SELECT DISTINCT accepted_at, message_id FROM deliveries WHERE TRUE AND topic = 'orders' ORDER BY accepted_at DESC, message_id DESC LIMIT 51");

        Assert.Contains("ix_deliveries_updated", counts, StringComparison.Ordinal);
        Assert.Contains("ix_deliveries_topic", byTopic, StringComparison.Ordinal);
    }

    private async Task<string> PlanAsync(string sql)
    {
        await using var connection = await Host.DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var off = new NpgsqlCommand("SET LOCAL enable_seqscan = off", connection, transaction))
        {
            await off.ExecuteNonQueryAsync();
        }

        await using var explain = new NpgsqlCommand("EXPLAIN " + sql, connection, transaction);
        await using var reader = await explain.ExecuteReaderAsync();
        var plan = new System.Text.StringBuilder();
        while (await reader.ReadAsync())
        {
            plan.AppendLine(reader.GetString(0));
        }

        return plan.ToString();
    }
}
