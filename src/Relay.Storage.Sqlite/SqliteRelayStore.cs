using System.Buffers.Text;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using Relay.Contracts;
using Relay.Core.Messages;
using Relay.Core.Storage;
using Relay.Storage.Sqlite.Writing;
using static Relay.Storage.Sqlite.SqliteValues;

namespace Relay.Storage.Sqlite;

/// <summary>Relay's read side over the <c>deliveries</c> and <c>audit</c> tables, which the grain storage keeps.</summary>
internal sealed class SqliteRelayStore(SqliteDatabase database) : IRelayStore
{
    public const int MaxPageSize = 1000;

    /// <summary>Audit rows removed per write, so a large purge never holds up the deliveries' writes for long.</summary>
    internal const int PurgeChunk = 5000;

    /// <summary>Deliveries removed per write: each is four deletes, and the writer's other writes wait for the batch.</summary>
    internal const int PurgeDeliveriesChunk = 500;

    /// <summary>
    /// Named index: without statistics SQLite prefers walking ix_deliveries_status whole for the GROUP BY; the covering
    /// ix_deliveries_updated reads only the window's entries.
    /// </summary>
    /// <summary>A scheduler's poll: on ix_deliveries_due_at (due time first), it reads the due entries only.</summary>
    internal const string DueDeliveriesSql = """
        SELECT destination, message_id FROM deliveries
        WHERE shard BETWEEN $from AND $to AND due_at IS NOT NULL AND due_at <= $now
          AND destination NOT IN (SELECT value FROM json_each($excluded))
        ORDER BY due_at, shard, destination, message_id
        LIMIT $limit
        """;

    internal const string CountChangedSinceSql = """
        SELECT destination, status, COUNT(*) FROM deliveries INDEXED BY ix_deliveries_updated WHERE updated_at >= $since
        GROUP BY destination, status ORDER BY destination, status
        """;

    private const string DeliveryColumns = """
        destination, message_id, topic, status, attempts, accepted_at, updated_at, due_at, next_attempt_at,
        completed_at, last_error, response_status_code, response_headers_json, response_body, content_hash,
        correlation_id, shard, sender
        """;

    private const string AuditColumns = """
        destination, message_id, sequence, kind, at, attempt, silo, duration_ms, outcome, status_code, error,
        response_body, actor, detail
        """;

    public async Task<StoredMessage?> GetMessageAsync(string messageId, bool includeAudit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messageId);
        if (!includeAudit)
        {
            // Every send asks this once (is the id known?): one SELECT, its own snapshot, prepared once per session.
            cancellationToken.ThrowIfCancellationRequested();
            var known = ReadDeliveriesOfOne(messageId);
            return known.Count == 0 ? null : new StoredMessage(messageId, known, []);
        }

        var connection = await database.OpenReadConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            // One read transaction, so the deliveries and the audit come from the same snapshot.
            using var transaction = connection.BeginTransaction(deferred: true);
            var deliveries = await ReadDeliveriesAsync(connection, transaction, [messageId], cancellationToken).ConfigureAwait(false);
            if (deliveries.Count == 0)
            {
                return null;
            }

            var audit = await ReadAuditAsync(connection, transaction, messageId, cancellationToken).ConfigureAwait(false);
            return new StoredMessage(messageId, deliveries, audit);
        }
    }

    private List<DeliveryRow> ReadDeliveriesOfOne(string messageId)
    {
        var rows = new List<DeliveryRow>();
        var session = database.ReadSessions.Rent();
        try
        {
            var command = session.Command($"SELECT {DeliveryColumns} FROM deliveries WHERE message_id = $m0 ORDER BY destination");
            command.Parameters.AddWithValue("$m0", messageId);
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    rows.Add(ReadDeliveryRow(reader));
                }
            }
        }
        catch
        {
            session.Dispose();
            throw;
        }

        database.ReadSessions.Return(session);
        return rows;
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

        // Every delivery of a message carries the message's accepted_at, so (accepted_at, message_id) names a
        // message, and the index on (accepted_at DESC, message_id DESC) yields them newest first. A filter
        // matches a message when one delivery matches all of it.
        var sql = new StringBuilder("SELECT DISTINCT accepted_at, message_id FROM deliveries WHERE 1 = 1");
        if (query.Status is not null)
        {
            sql.Append(" AND status = $status");
        }

        if (query.Destination is not null)
        {
            sql.Append(" AND destination = $destination");
        }

        if (query.Topic is not null)
        {
            sql.Append(" AND topic = $topic");
        }

        if (query.AcceptedFrom is not null)
        {
            sql.Append(" AND accepted_at >= $accepted_from");
        }

        if (query.AcceptedTo is not null)
        {
            sql.Append(" AND accepted_at < $accepted_to");
        }

        if (!string.IsNullOrEmpty(query.IdContains))
        {
            // instr, not LIKE: the operator's text is matched as it is, '%' and '_' included, case-sensitive as in PostgreSQL.
            sql.Append(" AND instr(message_id, $id_text) > 0");
        }

        if (after is not null)
        {
            sql.Append(" AND (accepted_at, message_id) < ($after_at, $after_id)");
        }

        sql.Append(" ORDER BY accepted_at DESC, message_id DESC LIMIT $limit");

        var connection = await database.OpenReadConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            using var transaction = connection.BeginTransaction(deferred: true);
            var keys = new List<MessageCursor>(query.Limit + 1);
            using (var command = connection.CreateCommand())
            {
                command.Transaction = transaction;
                command.CommandText = sql.ToString();
                if (query.Status is { } status)
                {
                    command.Parameters.AddWithValue("$status", status.ToString());
                }

                if (query.Destination is { } destination)
                {
                    command.Parameters.AddWithValue("$destination", destination);
                }

                if (query.Topic is { } topic)
                {
                    command.Parameters.AddWithValue("$topic", topic);
                }

                if (query.AcceptedFrom is { } from)
                {
                    command.Parameters.AddWithValue("$accepted_from", ToDb(from));
                }

                if (query.AcceptedTo is { } to)
                {
                    command.Parameters.AddWithValue("$accepted_to", ToDb(to));
                }

                if (!string.IsNullOrEmpty(query.IdContains))
                {
                    command.Parameters.AddWithValue("$id_text", query.IdContains);
                }

                if (after is { } cursor)
                {
                    command.Parameters.AddWithValue("$after_at", cursor.AcceptedAtMs);
                    command.Parameters.AddWithValue("$after_id", cursor.MessageId);
                }

                // One more than asked tells whether another page follows.
                command.Parameters.AddWithValue("$limit", query.Limit + 1);
                using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    keys.Add(new MessageCursor(reader.GetInt64(0), reader.GetString(1)));
                }
            }

            var hasMore = keys.Count > query.Limit;
            if (hasMore)
            {
                keys.RemoveAt(keys.Count - 1);
            }

            var next = hasMore ? keys[^1].ToString() : null;

            // Only a message whose deliveries disagree on accepted_at could appear twice; show it once.
            var seen = new HashSet<string>(StringComparer.Ordinal);
            keys.RemoveAll(k => !seen.Add(k.MessageId));

            var deliveries = await ReadDeliveriesAsync(connection, transaction, keys.Select(k => k.MessageId).ToArray(), cancellationToken)
                .ConfigureAwait(false);
            var byMessage = deliveries.ToLookup(d => d.MessageId, StringComparer.Ordinal);
            var items = keys.Select(k => new StoredMessage(k.MessageId, byMessage[k.MessageId].ToArray(), [])).ToArray();
            return new StoredMessagePage(items, next);
        }
    }

    public async Task<IReadOnlyList<DeliveryKey>> GetDueDeliveriesAsync(int shardFrom, int shardTo, DateTimeOffset now, int limit,
        IReadOnlyCollection<string>? excludedDestinations = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        return await ReadKeysAsync(
            DueDeliveriesSql,
            cancellationToken,
            ("$from", shardFrom),
            ("$to", shardTo),
            ("$now", ToDb(now)),
            ("$excluded", System.Text.Json.JsonSerializer.Serialize(excludedDestinations ?? [])),
            ("$limit", limit)).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<DeliveryKey>> FindDeliveriesAsync(DeliveryStatus status, string? destination, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        return await ReadKeysAsync(
            """
            SELECT destination, message_id FROM deliveries
            WHERE status = $status AND ($destination IS NULL OR destination = $destination)
            ORDER BY destination, message_id
            LIMIT $limit
            """,
            cancellationToken,
            ("$status", status.ToString()),
            ("$destination", ToDb(destination)),
            ("$limit", limit)).ConfigureAwait(false);
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
            sql.Append(" AND (destination, message_id) > ($after_destination, $after_id)");
            parameters.Add(("$after_destination", cursor.Destination));
            parameters.Add(("$after_id", cursor.MessageId));
        }

        sql.Append(" ORDER BY destination, message_id LIMIT $limit");
        parameters.Add(("$limit", limit));
        return await ReadKeysAsync(sql.ToString(), cancellationToken, [.. parameters]).ConfigureAwait(false);
    }

    public async Task<long> CountDeliveriesAsync(DeliveryFilter filter, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var parameters = new List<(string Name, object Value)>();
        var sql = new StringBuilder("SELECT COUNT(*) FROM deliveries WHERE ");
        AppendFilter(sql, parameters, filter);
        var connection = await database.OpenReadConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql.ToString();
            foreach (var (name, value) in parameters)
            {
                command.Parameters.AddWithValue(name, value);
            }

            return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
    }

    private static void AppendFilter(StringBuilder sql, List<(string Name, object Value)> parameters, DeliveryFilter filter)
    {
        sql.Append("status = $status");
        parameters.Add(("$status", filter.Status.ToString()));
        if (filter.Destination is { } destination)
        {
            sql.Append(" AND destination = $destination");
            parameters.Add(("$destination", destination));
        }

        if (filter.Topic is { } topic)
        {
            sql.Append(" AND topic = $topic");
            parameters.Add(("$topic", topic));
        }

        if (filter.AcceptedFrom is { } from)
        {
            sql.Append(" AND accepted_at >= $accepted_from");
            parameters.Add(("$accepted_from", ToDb(from)));
        }

        if (filter.AcceptedTo is { } to)
        {
            sql.Append(" AND accepted_at < $accepted_to");
            parameters.Add(("$accepted_to", ToDb(to)));
        }

        if (!string.IsNullOrEmpty(filter.IdContains))
        {
            sql.Append(" AND instr(message_id, $id_text) > 0");
            parameters.Add(("$id_text", filter.IdContains));
        }
    }

    public async Task<IReadOnlyList<DestinationCount>> CountByDestinationAsync(CancellationToken cancellationToken = default)
    {
        var counts = new List<DestinationCount>();
        var connection = await database.OpenReadConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT destination, status, COUNT(*) FROM deliveries GROUP BY destination, status ORDER BY destination, status";
            using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                counts.Add(new DestinationCount(reader.GetString(0), SqliteValues.Enum<DeliveryStatus>(reader, 1), reader.GetInt64(2)));
            }
        }

        return counts;
    }

    public async Task<IReadOnlyList<DestinationCount>> CountChangedSinceAsync(DateTimeOffset since, CancellationToken cancellationToken = default)
    {
        var counts = new List<DestinationCount>();
        var connection = await database.OpenReadConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            using var command = connection.CreateCommand();
            command.CommandText = CountChangedSinceSql;
            command.Parameters.AddWithValue("$since", ToDb(since));
            using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                counts.Add(new DestinationCount(reader.GetString(0), SqliteValues.Enum<DeliveryStatus>(reader, 1), reader.GetInt64(2)));
            }
        }

        return counts;
    }

    public async Task<IReadOnlyList<AttemptBucket>> CountAttemptsAsync(DateTimeOffset from, TimeSpan bucketWidth, int buckets,
        CancellationToken cancellationToken = default)
    {
        RelayStoreLimits.CheckBuckets(bucketWidth, buckets);
        var width = (long)bucketWidth.TotalMilliseconds;
        var start = ToDb(from);
        var result = new List<AttemptBucket>();
        var connection = await database.OpenReadConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            using var command = connection.CreateCommand();
            // ix_audit_at: only the audit rows of the span are read.
            command.CommandText = """
                SELECT destination, (at - $from) / $width AS bucket,
                       SUM(CASE WHEN outcome = 'Success' THEN 1 ELSE 0 END), SUM(CASE WHEN outcome = 'Success' THEN 0 ELSE 1 END)
                FROM audit
                WHERE at >= $from AND at < $until AND kind = 'Attempt'
                GROUP BY destination, bucket ORDER BY destination, bucket
                """;
            command.Parameters.AddWithValue("$from", start);
            command.Parameters.AddWithValue("$width", width);
            command.Parameters.AddWithValue("$until", start + width * buckets);
            using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                result.Add(new AttemptBucket(reader.GetString(0), reader.GetInt32(1), reader.GetInt64(2), reader.GetInt64(3)));
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
            removed = await database.Writer.EnqueueAsync(new PurgeAudit(ToDb(before), PurgeChunk, cancellationToken)).ConfigureAwait(false);
            total += removed;
        }
        while (removed == PurgeChunk);

        return total;
    }

    public async Task<int> PurgeFinishedDeliveriesAsync(DateTimeOffset before, CancellationToken cancellationToken = default)
    {
        var total = 0;
        int removed;
        do
        {
            removed = await database.Writer.EnqueueAsync(new PurgeFinishedDeliveries(ToDb(before), PurgeDeliveriesChunk, cancellationToken))
                .ConfigureAwait(false);
            total += removed;
        }
        while (removed == PurgeDeliveriesChunk);

        return total;
    }

    public async Task<bool> CheckWriteAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            // Through the group-commit writer, as every state write: a writer that is stuck or failing answers false too.
            return await database.Writer.EnqueueAsync(new HealthWrite(cancellationToken))
                .ConfigureAwait(false) == 1;
        }
        catch (Exception exception) when (exception is SqliteException or ObjectDisposedException or IOException or InvalidOperationException)
        {
            return false;
        }
    }

    public async Task<bool> PingAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            var connection = await database.OpenReadConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                using var command = connection.CreateCommand();
                command.CommandText = "SELECT COUNT(*) FROM schema_version";
                return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long count && count > 0;
            }
        }
        catch (Exception exception) when (exception is SqliteException or ObjectDisposedException or IOException)
        {
            return false;
        }
    }

    private static async Task<List<DeliveryRow>> ReadDeliveriesAsync(
        SqliteConnection connection, SqliteTransaction transaction, IReadOnlyList<string> messageIds, CancellationToken cancellationToken)
    {
        var rows = new List<DeliveryRow>();
        if (messageIds.Count == 0)
        {
            return rows;
        }

        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        var names = new string[messageIds.Count];
        for (var i = 0; i < messageIds.Count; i++)
        {
            names[i] = "$m" + i.ToString(CultureInfo.InvariantCulture);
            command.Parameters.AddWithValue(names[i], messageIds[i]);
        }

        command.CommandText = $"SELECT {DeliveryColumns} FROM deliveries WHERE message_id IN ({string.Join(", ", names)}) ORDER BY message_id, destination";
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add(ReadDeliveryRow(reader));
        }

        return rows;
    }

    private static DeliveryRow ReadDeliveryRow(SqliteDataReader reader) => new()
    {
        Destination = reader.GetString(0),
        MessageId = reader.GetString(1),
        Topic = NullableString(reader, 2),
        Status = SqliteValues.Enum<DeliveryStatus>(reader, 3),
        Attempts = reader.GetInt32(4),
        AcceptedAt = Time(reader, 5),
        UpdatedAt = Time(reader, 6),
        DueAt = NullableTime(reader, 7),
        NextAttemptAt = NullableTime(reader, 8),
        CompletedAt = NullableTime(reader, 9),
        LastError = NullableString(reader, 10),
        ResponseStatusCode = NullableInt(reader, 11),
        ResponseHeadersJson = NullableString(reader, 12),
        ResponseBody = NullableString(reader, 13),
        ContentHash = reader.GetString(14),
        CorrelationId = NullableString(reader, 15),
        Shard = reader.GetInt32(16),
        Sender = NullableString(reader, 17),
    };

    private static async Task<IReadOnlyList<AuditEntry>> ReadAuditAsync(
        SqliteConnection connection, SqliteTransaction transaction, string messageId, CancellationToken cancellationToken)
    {
        var entries = new List<AuditEntry>();
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"SELECT {AuditColumns} FROM audit WHERE message_id = $message ORDER BY at, sequence, destination";
        command.Parameters.AddWithValue("$message", messageId);
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            entries.Add(new AuditEntry
            {
                Destination = reader.GetString(0),
                MessageId = reader.GetString(1),
                Sequence = reader.GetInt32(2),
                Kind = SqliteValues.Enum<AuditKind>(reader, 3),
                At = Time(reader, 4),
                Attempt = reader.GetInt32(5),
                Silo = NullableString(reader, 6),
                DurationMs = reader.GetInt64(7),
                Outcome = NullableEnum<AttemptOutcome>(reader, 8),
                StatusCode = NullableInt(reader, 9),
                Error = NullableString(reader, 10),
                ResponseBody = NullableString(reader, 11),
                By = NullableString(reader, 12),
                Detail = NullableString(reader, 13),
            });
        }

        return entries;
    }

    private async Task<IReadOnlyList<DeliveryKey>> ReadKeysAsync(string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        var keys = new List<DeliveryKey>();
        var connection = await database.OpenReadConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            foreach (var (name, value) in parameters)
            {
                command.Parameters.AddWithValue(name, value);
            }

            using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                keys.Add(new DeliveryKey(reader.GetString(0), reader.GetString(1)));
            }
        }

        return keys;
    }

    /// <summary>The health check's write: one row of <c>counters</c>, the number of checks.</summary>
    private sealed class HealthWrite(CancellationToken cancellationToken) : WriteOperation<int>(cancellationToken)
    {
        protected override int Run(WriterSession session)
        {
            var command = session.Command(
                "INSERT INTO counters (name, value) VALUES ('health', 1) ON CONFLICT (name) DO UPDATE SET value = value + 1");
            return command.ExecuteNonQuery();
        }
    }

    private sealed class PurgeAudit(long beforeMs, int chunk, CancellationToken cancellationToken) : WriteOperation<int>(cancellationToken)
    {
        protected override int Run(WriterSession session)
        {
            var command = session.Command(PurgeAuditSql);
            command.Parameters.AddWithValue("$before", beforeMs);
            command.Parameters.AddWithValue("$chunk", chunk);
            return command.ExecuteNonQuery();
        }
    }

    /// <summary>Old entries of finished deliveries, or of deliveries no longer stored; a dead letter keeps its trail.</summary>
    private const string PurgeAuditSql = """
        DELETE FROM audit WHERE rowid IN (
            SELECT a.rowid FROM audit a
            WHERE a.at < $before
              AND NOT EXISTS (
                  SELECT 1 FROM deliveries d
                  WHERE d.destination = a.destination AND d.message_id = a.message_id
                    AND d.status NOT IN ('Delivered', 'Discarded'))
            LIMIT $chunk)
        """;

    /// <summary>
    /// Finished deliveries that changed last before the cutoff and owe nothing, of messages whose every delivery is so.
    /// On ix_deliveries_updated: the deliveries older than the cutoff only.
    /// </summary>
    internal const string FinishedDeliveriesSql = """
        SELECT d.destination, d.message_id FROM deliveries d
        WHERE d.updated_at < $before AND d.status IN ('Delivered', 'Discarded') AND d.due_at IS NULL
          AND NOT EXISTS (
              SELECT 1 FROM deliveries o
              WHERE o.message_id = d.message_id
                AND (o.status NOT IN ('Delivered', 'Discarded') OR o.due_at IS NOT NULL OR o.updated_at >= $before))
        LIMIT $chunk
        """;

    /// <summary>
    /// Removes a chunk of finished deliveries: the delivery grain's state and content (grain id <c>delivery/</c> and the
    /// delivery key, state <c>delivery</c>: DeliveryGrain's), its row and its audit, in the writer's transaction.
    /// </summary>
    private sealed class PurgeFinishedDeliveries(long beforeMs, int chunk, CancellationToken cancellationToken) : WriteOperation<int>(cancellationToken)
    {
        protected override int Run(WriterSession session)
        {
            var find = session.Command(FinishedDeliveriesSql);
            find.Parameters.AddWithValue("$before", beforeMs);
            find.Parameters.AddWithValue("$chunk", chunk);
            var doomed = new List<(string Destination, string MessageId)>();
            using (var reader = find.ExecuteReader())
            {
                while (reader.Read())
                {
                    doomed.Add((reader.GetString(0), reader.GetString(1)));
                }
            }

            foreach (var (destination, messageId) in doomed)
            {
                var grainId = "delivery/" + new DeliveryKey(destination, messageId);
                foreach (var sql in (string[])["DELETE FROM grain_state WHERE grain_id = $grain AND state_name = 'delivery'",
                             "DELETE FROM grain_content WHERE grain_id = $grain AND state_name = 'delivery'"])
                {
                    var command = session.Command(sql);
                    command.Parameters.AddWithValue("$grain", grainId);
                    command.ExecuteNonQuery();
                }

                foreach (var sql in (string[])["DELETE FROM audit WHERE destination = $destination AND message_id = $message",
                             "DELETE FROM deliveries WHERE destination = $destination AND message_id = $message"])
                {
                    var command = session.Command(sql);
                    command.Parameters.AddWithValue("$destination", destination);
                    command.Parameters.AddWithValue("$message", messageId);
                    command.ExecuteNonQuery();
                }
            }

            return doomed.Count;
        }
    }
}

/// <summary>
/// Where a page of the message list ended: the last message's accepted_at and id. Handed out as base64url,
/// so clients treat it as opaque and it travels in a query string unescaped.
/// </summary>
internal readonly record struct MessageCursor(long AcceptedAtMs, string MessageId)
{
    public override string ToString() =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{AcceptedAtMs}|{MessageId}")));

    public static MessageCursor Parse(string cursor)
    {
        try
        {
            var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
            var bar = text.IndexOf('|', StringComparison.Ordinal);
            if (bar > 0 && long.TryParse(text.AsSpan(0, bar), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var acceptedAt))
            {
                return new MessageCursor(acceptedAt, text[(bar + 1)..]);
            }
        }
        catch (FormatException)
        {
        }

        throw new ArgumentException("The cursor is not one this listing handed out.", nameof(cursor));
    }
}
