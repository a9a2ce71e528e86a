using System.Text;
using Npgsql;
using Relay.Contracts;
using Relay.Core.Messages;
using Relay.Core.Storage;

namespace Relay.Storage.AdoNet;

/// <summary>
/// Relay's read side over the <c>deliveries</c> and <c>audit</c> tables, which the grain storage's write function
/// keeps (sql/postgresql/0004_relay.sql). The same answers as the SQLite backend's store, query for query.
/// </summary>
internal sealed class PostgresRelayStore(NpgsqlDataSource dataSource) : IRelayStore
{
    public const int MaxPageSize = 1000;

    /// <summary>Audit rows removed per transaction, so a large purge never holds many row locks for long.</summary>
    internal const int PurgeChunk = 5000;

    /// <summary>ix_deliveries_updated (0006_portal.sql), covering: only the window's index entries are read.</summary>
    internal const string CountChangedSinceSql = """
        SELECT destination, status, COUNT(*) FROM deliveries WHERE updated_at >= @since
        GROUP BY destination, status ORDER BY destination, status
        """;

    private const string DeliveryColumns = """
        d.destination, d.message_id, d.topic, d.status, d.attempts, d.accepted_at, d.updated_at, d.due_at,
        d.next_attempt_at, d.completed_at, d.last_error, d.response_status_code, d.response_headers_json,
        d.response_body, d.content_hash, d.correlation_id, d.shard, d.sender
        """;

    private const string AuditColumns = """
        destination, message_id, sequence, kind, at, attempt, silo, duration_ms, outcome, status_code, error,
        response_body, actor, detail
        """;

    public async Task<StoredMessage?> GetMessageAsync(string messageId, bool includeAudit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messageId);
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            // One round trip; the deliveries and the audit from the same snapshot (a repeatable-read transaction
            // inside the batch), as the SQLite store reads them in one read transaction.
            var batch = new NpgsqlBatch(connection);
            await using (batch.ConfigureAwait(false))
            {
                if (includeAudit)
                {
                    batch.BatchCommands.Add(new NpgsqlBatchCommand("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
                }

                var deliveries = new NpgsqlBatchCommand($"SELECT {DeliveryColumns} FROM deliveries d WHERE d.message_id = $1 ORDER BY d.destination");
                deliveries.Parameters.Add(new NpgsqlParameter { Value = messageId });
                batch.BatchCommands.Add(deliveries);
                if (includeAudit)
                {
                    var audit = new NpgsqlBatchCommand($"SELECT {AuditColumns} FROM audit WHERE message_id = $1 ORDER BY at, sequence, destination");
                    audit.Parameters.Add(new NpgsqlParameter { Value = messageId });
                    batch.BatchCommands.Add(audit);
                    batch.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
                }

                var rows = new List<DeliveryRow>();
                var entries = new List<AuditEntry>();
                var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        rows.Add(ReadDelivery(reader, 0));
                    }

                    if (includeAudit && await reader.NextResultAsync(cancellationToken).ConfigureAwait(false))
                    {
                        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                        {
                            entries.Add(ReadAudit(reader));
                        }
                    }

                    // Drain to the COMMIT, so the connection goes back to the pool outside a transaction.
                    while (await reader.NextResultAsync(cancellationToken).ConfigureAwait(false))
                    {
                    }
                }

                return rows.Count == 0 ? null : new StoredMessage(messageId, rows, entries);
            }
        }
    }

    public async Task<StoredMessagePage> ListMessagesAsync(MessageQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Limit is < 1 or > MaxPageSize)
        {
            throw new ArgumentOutOfRangeException(nameof(query), query.Limit, $"The page size must be between 1 and {MaxPageSize}.");
        }

        RelayStoreLimits.CheckQuery(query);
        var after = query.Cursor is null ? (MessageCursor?)null : MessageCursor.Parse(query.Cursor);

        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var command = connection.CreateCommand();
            await using (command.ConfigureAwait(false))
            {
                // Every delivery of a message carries the message's accepted_at, so (accepted_at, message_id) names a
                // message, and ix_deliveries_accepted yields them newest first. A filter matches a message when one
                // delivery matches all of it. One statement: the page's keys and all their deliveries, one snapshot.
                var page = new StringBuilder("SELECT DISTINCT accepted_at, message_id FROM deliveries WHERE TRUE");
                if (query.Status is { } status)
                {
                    page.Append(" AND status = @status");
                    command.Parameters.AddWithValue("status", status.ToString());
                }

                if (query.Destination is { } destination)
                {
                    page.Append(" AND destination = @destination");
                    command.Parameters.AddWithValue("destination", destination);
                }

                if (query.Topic is { } topic)
                {
                    page.Append(" AND topic = @topic");
                    command.Parameters.AddWithValue("topic", topic);
                }

                if (query.AcceptedFrom is { } from)
                {
                    page.Append(" AND accepted_at >= @accepted_from");
                    command.Parameters.AddWithValue("accepted_from", WholeMilliseconds(from));
                }

                if (query.AcceptedTo is { } to)
                {
                    page.Append(" AND accepted_at < @accepted_to");
                    command.Parameters.AddWithValue("accepted_to", WholeMilliseconds(to));
                }

                if (!string.IsNullOrEmpty(query.IdContains))
                {
                    // strpos, not LIKE: the operator's text is matched as it is, '%' and '_' included.
                    page.Append(" AND strpos(message_id, @id_text) > 0");
                    command.Parameters.AddWithValue("id_text", query.IdContains);
                }

                if (after is { } cursor)
                {
                    page.Append(" AND (accepted_at, message_id) < (@after_at, @after_id)");
                    command.Parameters.AddWithValue("after_at", cursor.AcceptedAt);
                    command.Parameters.AddWithValue("after_id", cursor.MessageId);
                }

                // One more than asked tells whether another page follows.
                page.Append(" ORDER BY accepted_at DESC, message_id DESC LIMIT @limit");
                command.Parameters.AddWithValue("limit", query.Limit + 1);
                command.CommandText = $"""
                    WITH page AS ({page})
                    SELECT p.accepted_at, p.message_id, {DeliveryColumns}
                    FROM page p JOIN deliveries d ON d.message_id = p.message_id
                    ORDER BY p.accepted_at DESC, p.message_id DESC, d.destination
                    """;

                var keys = new List<MessageCursor>(query.Limit + 1);
                var deliveries = new Dictionary<string, List<DeliveryRow>>(StringComparer.Ordinal);
                List<DeliveryRow>? collecting = null;
                var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    // Rows come grouped by key, newest key first.
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        var key = new MessageCursor(reader.GetFieldValue<DateTimeOffset>(0).ToUnixTimeMilliseconds(), reader.GetString(1));
                        if (keys.Count == 0 || keys[^1] != key)
                        {
                            keys.Add(key);
                            // Only a message whose deliveries disagree on accepted_at comes under two keys; its
                            // deliveries are taken (all of them, by the join on message_id) under the first.
                            collecting = deliveries.TryAdd(key.MessageId, []) ? deliveries[key.MessageId] : null;
                        }

                        collecting?.Add(ReadDelivery(reader, 2));
                    }
                }

                var hasMore = keys.Count > query.Limit;
                if (hasMore)
                {
                    keys.RemoveAt(keys.Count - 1);
                }

                var next = hasMore ? keys[^1].ToString() : null;
                var seen = new HashSet<string>(StringComparer.Ordinal);
                var items = keys
                    .Where(k => seen.Add(k.MessageId))
                    .Select(k => new StoredMessage(k.MessageId, deliveries[k.MessageId], []))
                    .ToArray();
                return new StoredMessagePage(items, next);
            }
        }
    }

    /// <summary>
    /// A scheduler's poll: on ix_deliveries_due_at (due time first, sql/postgresql/0009_due_index.sql) it reads the due
    /// entries only, in order, and stops at its limit, whatever the backlog not yet due.
    /// </summary>
    internal const string DueDeliveriesSql = """
        SELECT destination, message_id FROM deliveries
        WHERE shard BETWEEN @from AND @to AND due_at IS NOT NULL AND due_at <= @now
          AND NOT (destination = ANY(@excluded))
        ORDER BY due_at, shard, destination, message_id
        LIMIT @limit
        """;

    public async Task<IReadOnlyList<DeliveryKey>> GetDueDeliveriesAsync(int shardFrom, int shardTo, DateTimeOffset now, int limit,
        IReadOnlyCollection<string>? excludedDestinations = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        return await ReadKeysAsync(
            DueDeliveriesSql,
            cancellationToken,
            ("from", shardFrom),
            ("to", shardTo),
            ("now", WholeMilliseconds(now)),
            ("excluded", (excludedDestinations ?? []).ToArray()),
            ("limit", limit)).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<DeliveryKey>> FindDeliveriesAsync(DeliveryStatus status, string? destination, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        return destination is null
            ? await ReadKeysAsync(
                """
                SELECT destination, message_id FROM deliveries
                WHERE status = @status
                ORDER BY destination, message_id
                LIMIT @limit
                """,
                cancellationToken,
                ("status", status.ToString()),
                ("limit", limit)).ConfigureAwait(false)
            : await ReadKeysAsync(
                """
                SELECT destination, message_id FROM deliveries
                WHERE status = @status AND destination = @destination
                ORDER BY destination, message_id
                LIMIT @limit
                """,
                cancellationToken,
                ("status", status.ToString()),
                ("destination", destination),
                ("limit", limit)).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<DeliveryKey>> FindDeliveriesAsync(DeliveryFilter filter, DeliveryKey? after, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var parameters = new List<(string Name, object Value)>();
        var sql = new StringBuilder("SELECT destination, message_id FROM deliveries WHERE ");
        AppendFilter(sql, parameters, filter);
        if (after is { } cursor)
        {
            // A row value on ix_deliveries_status (status, destination, message_id): the walk seeks, it does not skip.
            sql.Append(" AND (destination, message_id) > (@after_destination, @after_id)");
            parameters.Add(("after_destination", cursor.Destination));
            parameters.Add(("after_id", cursor.MessageId));
        }

        sql.Append(" ORDER BY destination, message_id LIMIT @limit");
        parameters.Add(("limit", limit));
        return await ReadKeysAsync(sql.ToString(), cancellationToken, [.. parameters]).ConfigureAwait(false);
    }

    public async Task<long> CountDeliveriesAsync(DeliveryFilter filter, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var parameters = new List<(string Name, object Value)>();
        var sql = new StringBuilder("SELECT COUNT(*) FROM deliveries WHERE ");
        AppendFilter(sql, parameters, filter);
        var command = dataSource.CreateCommand(sql.ToString());
        await using (command.ConfigureAwait(false))
        {
            foreach (var (name, value) in parameters)
            {
                command.Parameters.AddWithValue(name, value);
            }

            return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
    }

    private static void AppendFilter(StringBuilder sql, List<(string Name, object Value)> parameters, DeliveryFilter filter)
    {
        sql.Append("status = @status");
        parameters.Add(("status", filter.Status.ToString()));
        if (filter.Destination is { } destination)
        {
            sql.Append(" AND destination = @destination");
            parameters.Add(("destination", destination));
        }

        if (filter.Topic is { } topic)
        {
            sql.Append(" AND topic = @topic");
            parameters.Add(("topic", topic));
        }

        if (filter.AcceptedFrom is { } from)
        {
            sql.Append(" AND accepted_at >= @accepted_from");
            parameters.Add(("accepted_from", WholeMilliseconds(from)));
        }

        if (filter.AcceptedTo is { } to)
        {
            sql.Append(" AND accepted_at < @accepted_to");
            parameters.Add(("accepted_to", WholeMilliseconds(to)));
        }

        if (!string.IsNullOrEmpty(filter.IdContains))
        {
            sql.Append(" AND strpos(message_id, @id_text) > 0");
            parameters.Add(("id_text", filter.IdContains));
        }
    }

    public async Task<IReadOnlyList<DestinationCount>> CountByDestinationAsync(CancellationToken cancellationToken = default)
    {
        var counts = new List<DestinationCount>();
        var command = dataSource.CreateCommand(
            "SELECT destination, status, COUNT(*) FROM deliveries GROUP BY destination, status ORDER BY destination, status");
        await using (command.ConfigureAwait(false))
        {
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    counts.Add(new DestinationCount(reader.GetString(0), Enum.Parse<DeliveryStatus>(reader.GetString(1)), reader.GetInt64(2)));
                }
            }
        }

        return counts;
    }

    public async Task<IReadOnlyList<DestinationCount>> CountChangedSinceAsync(DateTimeOffset since, CancellationToken cancellationToken = default)
    {
        var counts = new List<DestinationCount>();
        var command = dataSource.CreateCommand(CountChangedSinceSql);
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.AddWithValue("since", WholeMilliseconds(since));
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    counts.Add(new DestinationCount(reader.GetString(0), Enum.Parse<DeliveryStatus>(reader.GetString(1)), reader.GetInt64(2)));
                }
            }
        }

        return counts;
    }

    public async Task<IReadOnlyList<AttemptBucket>> CountAttemptsAsync(DateTimeOffset from, TimeSpan bucketWidth, int buckets,
        CancellationToken cancellationToken = default)
    {
        RelayStoreLimits.CheckBuckets(bucketWidth, buckets);
        var start = WholeMilliseconds(from);
        var width = (long)bucketWidth.TotalMilliseconds;
        var result = new List<AttemptBucket>();
        // ix_audit_at: only the audit rows of the span are read. Buckets in whole milliseconds, as the SQLite backend.
        var command = dataSource.CreateCommand("""
            SELECT destination,
                   ((extract(epoch FROM at) * 1000)::bigint - @from_ms) / @width AS bucket,
                   COUNT(*) FILTER (WHERE outcome = 'Success'), COUNT(*) FILTER (WHERE outcome IS DISTINCT FROM 'Success')
            FROM audit
            WHERE at >= @from AND at < @until AND kind = 'Attempt'
            GROUP BY destination, bucket ORDER BY destination, bucket
            """);
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.AddWithValue("from", start);
            command.Parameters.AddWithValue("until", start.AddMilliseconds((double)width * buckets));
            command.Parameters.AddWithValue("from_ms", start.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("width", width);
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    result.Add(new AttemptBucket(reader.GetString(0), (int)reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3)));
                }
            }
        }

        return result;
    }

    public async Task<int> PurgeAuditAsync(DateTimeOffset before, CancellationToken cancellationToken = default)
    {
        var total = 0;
        int removed;
        do
        {
            var command = dataSource.CreateCommand(PurgeAuditSql);
            await using (command.ConfigureAwait(false))
            {
                command.Parameters.AddWithValue("before", WholeMilliseconds(before));
                command.Parameters.AddWithValue("chunk", PurgeChunk);
                removed = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            total += removed;
        }
        while (removed == PurgeChunk);

        return total;
    }

    /// <summary>
    /// A row of <c>relay_grain_state</c> that no grain has (grain ids never start with '~'), shared by the silos: one
    /// short transaction of its own, outside the group-commit writer, whose batches it would only delay.
    /// </summary>
    /// <summary>Old entries of finished deliveries, or of deliveries no longer stored; a dead letter keeps its trail.</summary>
    private const string PurgeAuditSql = """
        DELETE FROM audit WHERE ctid IN (
            SELECT a.ctid FROM audit a
            WHERE a.at < @before
              AND NOT EXISTS (
                  SELECT 1 FROM deliveries d
                  WHERE d.destination = a.destination AND d.message_id = a.message_id
                    AND d.status NOT IN ('Delivered', 'Discarded'))
            LIMIT @chunk)
        """;

    /// <summary>
    /// One chunk of finished deliveries (as SqliteRelayStore's), removed with their grain state and content (grain id
    /// <c>delivery/</c> and the delivery key, state <c>delivery</c>: DeliveryGrain's), row and audit, in one statement.
    /// Delivered and Discarded are final: no write can make such a row qualify no longer between the choice and the delete.
    /// </summary>
    internal const string PurgeFinishedDeliveriesSql = """
        WITH doomed AS (
            SELECT d.destination, d.message_id FROM deliveries d
            WHERE d.updated_at < @before AND d.status IN ('Delivered', 'Discarded') AND d.due_at IS NULL
              AND NOT EXISTS (
                  SELECT 1 FROM deliveries o
                  WHERE o.message_id = d.message_id
                    AND (o.status NOT IN ('Delivered', 'Discarded') OR o.due_at IS NOT NULL OR o.updated_at >= @before))
            LIMIT @chunk),
        gone AS (
            DELETE FROM deliveries t USING doomed x
            WHERE t.destination = x.destination AND t.message_id = x.message_id
            RETURNING t.destination, t.message_id, 'delivery/' || t.destination || '/' || t.message_id AS grain_id),
        trail AS (
            DELETE FROM audit a USING gone g WHERE a.destination = g.destination AND a.message_id = g.message_id),
        states AS (
            DELETE FROM relay_grain_state s USING gone g WHERE s.grain_id = g.grain_id AND s.state_name = 'delivery'),
        contents AS (
            DELETE FROM relay_grain_content c USING gone g WHERE c.grain_id = g.grain_id AND c.state_name = 'delivery')
        SELECT count(*)::int FROM gone
        """;

    internal const int PurgeDeliveriesChunk = 500;

    public async Task<int> PurgeFinishedDeliveriesAsync(DateTimeOffset before, CancellationToken cancellationToken = default)
    {
        var total = 0;
        int removed;
        do
        {
            var command = dataSource.CreateCommand(PurgeFinishedDeliveriesSql);
            await using (command.ConfigureAwait(false))
            {
                command.Parameters.AddWithValue("before", WholeMilliseconds(before));
                command.Parameters.AddWithValue("chunk", PurgeDeliveriesChunk);
                removed = (int)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            }

            total += removed;
        }
        while (removed == PurgeDeliveriesChunk);

        return total;
    }

    internal const string HealthWriteSql = """
        INSERT INTO relay_grain_state (grain_id, state_name, version, data) VALUES ('~health', 'relay-health', 1, '\x'::bytea)
        ON CONFLICT (grain_id, state_name) DO UPDATE SET version = relay_grain_state.version + 1
        """;

    public async Task<bool> CheckWriteAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            var command = dataSource.CreateCommand(HealthWriteSql);
            await using (command.ConfigureAwait(false))
            {
                return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
            }
        }
        catch (Exception exception) when (exception is NpgsqlException or ObjectDisposedException or TimeoutException)
        {
            return false;
        }
    }

    public async Task<bool> PingAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            var command = dataSource.CreateCommand("SELECT COUNT(*) FROM relay_schema_version");
            await using (command.ConfigureAwait(false))
            {
                return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long count && count > 0;
            }
        }
        catch (Exception exception) when (exception is NpgsqlException or ObjectDisposedException or TimeoutException)
        {
            return false;
        }
    }

    /// <summary>
    /// A time as the tables keep it: UTC (Npgsql writes only offset 0 to timestamptz), whole milliseconds (as the
    /// SQLite backend compares), so a cut-off between two milliseconds means the same on both backends.
    /// </summary>
    private static DateTimeOffset WholeMilliseconds(DateTimeOffset value) =>
        DateTimeOffset.FromUnixTimeMilliseconds(value.ToUnixTimeMilliseconds());

    private static DeliveryRow ReadDelivery(NpgsqlDataReader reader, int first) => new()
    {
        Destination = reader.GetString(first),
        MessageId = reader.GetString(first + 1),
        Topic = NullableString(reader, first + 2),
        Status = Enum.Parse<DeliveryStatus>(reader.GetString(first + 3)),
        Attempts = reader.GetInt32(first + 4),
        AcceptedAt = reader.GetFieldValue<DateTimeOffset>(first + 5),
        UpdatedAt = reader.GetFieldValue<DateTimeOffset>(first + 6),
        DueAt = NullableTime(reader, first + 7),
        NextAttemptAt = NullableTime(reader, first + 8),
        CompletedAt = NullableTime(reader, first + 9),
        LastError = NullableString(reader, first + 10),
        ResponseStatusCode = NullableInt(reader, first + 11),
        ResponseHeadersJson = NullableString(reader, first + 12),
        ResponseBody = NullableString(reader, first + 13),
        ContentHash = reader.GetString(first + 14),
        CorrelationId = NullableString(reader, first + 15),
        Shard = reader.GetInt32(first + 16),
        Sender = NullableString(reader, first + 17),
    };

    private static AuditEntry ReadAudit(NpgsqlDataReader reader) => new()
    {
        Destination = reader.GetString(0),
        MessageId = reader.GetString(1),
        Sequence = reader.GetInt32(2),
        Kind = Enum.Parse<AuditKind>(reader.GetString(3)),
        At = reader.GetFieldValue<DateTimeOffset>(4),
        Attempt = reader.GetInt32(5),
        Silo = NullableString(reader, 6),
        DurationMs = reader.GetInt64(7),
        Outcome = reader.IsDBNull(8) ? null : Enum.Parse<AttemptOutcome>(reader.GetString(8)),
        StatusCode = NullableInt(reader, 9),
        Error = NullableString(reader, 10),
        ResponseBody = NullableString(reader, 11),
        By = NullableString(reader, 12),
        Detail = NullableString(reader, 13),
    };

    private static string? NullableString(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    private static int? NullableInt(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetInt32(ordinal);

    private static DateTimeOffset? NullableTime(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetFieldValue<DateTimeOffset>(ordinal);

    private async Task<IReadOnlyList<DeliveryKey>> ReadKeysAsync(string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        var keys = new List<DeliveryKey>();
        var command = dataSource.CreateCommand(sql);
        await using (command.ConfigureAwait(false))
        {
            foreach (var (name, value) in parameters)
            {
                command.Parameters.AddWithValue(name, value);
            }

            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    keys.Add(new DeliveryKey(reader.GetString(0), reader.GetString(1)));
                }
            }
        }

        return keys;
    }
}
