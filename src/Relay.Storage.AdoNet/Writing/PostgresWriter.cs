using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using Orleans.Storage;
using Relay.Core.Storage;
using Relay.Core.Telemetry;

namespace Relay.Storage.AdoNet.Writing;

/// <summary>
/// The group-commit writer of one silo: callers queue <see cref="StateWrite"/>s; a loop takes every queued one (up to
/// <see cref="MaxBatch"/>) and writes them in one transaction, set-based: one statement per kind of write for the whole
/// batch (arrays through <c>unnest</c>), two round trips and one commit per batch, however many writes it holds.
/// While a batch commits the next one queues up: the busier the silo, the larger the batches, and a lone write waits
/// for no timer.
/// </summary>
/// <remarks>
/// An ETag that no longer matches, or a message id that other content holds, refuses its own write only (the
/// statements answer which rows they wrote). A statement PostgreSQL refuses (say, a value a column cannot hold) aborts
/// the transaction: the writes of the batch are then run again one per transaction, so that only the refused one fails.
/// A lost connection fails the whole batch (nothing of it was committed) and the next batch opens a new one.
/// </remarks>
internal sealed partial class PostgresWriter : IAsyncDisposable
{
    public const int MaxBatch = 256;

    private const string InsertStates = """
        INSERT INTO relay_grain_state (grain_id, state_name, version, data)
        SELECT u.grain_id, u.state_name, nextval('relay_etag'), u.data
        FROM unnest($1::text[], $2::text[], $3::bytea[], $4::text[], $5::text[], $6::text[])
            AS u(grain_id, state_name, data, message_id, content_hash, sender)
        WHERE u.message_id IS NULL OR NOT EXISTS (
            SELECT 1 FROM deliveries d
            WHERE d.message_id = u.message_id AND (d.content_hash <> u.content_hash OR d.sender IS DISTINCT FROM u.sender))
        ON CONFLICT (grain_id, state_name) DO NOTHING
        RETURNING grain_id, state_name, version
        """;

    private const string UpdateStates = """
        UPDATE relay_grain_state AS t SET version = nextval('relay_etag'), data = u.data
        FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bytea[]) AS u(grain_id, state_name, expected, data)
        WHERE t.grain_id = u.grain_id AND t.state_name = u.state_name AND t.version = u.expected
        RETURNING t.grain_id, t.state_name, t.version
        """;

    private const string DeleteStates = """
        WITH deleted AS (
            DELETE FROM relay_grain_state AS t
            USING unnest($1::text[], $2::text[], $3::bigint[]) AS u(grain_id, state_name, expected)
            WHERE t.grain_id = u.grain_id AND t.state_name = u.state_name AND t.version = u.expected
            RETURNING t.grain_id, t.state_name, t.version),
        content AS (
            DELETE FROM relay_grain_content AS c USING deleted d
            WHERE c.grain_id = d.grain_id AND c.state_name = d.state_name)
        SELECT grain_id, state_name, version FROM deleted
        """;

    /// <summary>The contents of the written states that carry one (new, or changed): written apart from the state.</summary>
    private const string UpsertContents = """
        INSERT INTO relay_grain_content AS t (grain_id, state_name, content)
        SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[])
        ON CONFLICT (grain_id, state_name) DO UPDATE SET content = excluded.content
        """;

    /// <summary>States that are stored: a clear without an ETag must find none, a refused write names the version it met.</summary>
    private const string StoredVersions = """
        SELECT t.grain_id, t.state_name, t.version
        FROM relay_grain_state t JOIN unnest($1::text[], $2::text[]) AS u(grain_id, state_name)
            ON t.grain_id = u.grain_id AND t.state_name = u.state_name
        """;

    private const string UpsertDeliveries = """
        INSERT INTO deliveries AS t (destination, message_id, topic, status, attempts, accepted_at, updated_at, due_at,
            next_attempt_at, completed_at, last_error, response_status_code, response_headers_json, response_body,
            content_hash, correlation_id, shard, sender)
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::timestamptz[],
            $7::timestamptz[], $8::timestamptz[], $9::timestamptz[], $10::timestamptz[], $11::text[], $12::int[],
            $13::text[], $14::text[], $15::text[], $16::text[], $17::int[], $18::text[])
        ON CONFLICT (destination, message_id) DO UPDATE SET
            topic = excluded.topic, status = excluded.status, attempts = excluded.attempts,
            accepted_at = excluded.accepted_at, updated_at = excluded.updated_at, due_at = excluded.due_at,
            next_attempt_at = excluded.next_attempt_at, completed_at = excluded.completed_at,
            last_error = excluded.last_error, response_status_code = excluded.response_status_code,
            response_headers_json = excluded.response_headers_json, response_body = excluded.response_body,
            content_hash = excluded.content_hash, correlation_id = excluded.correlation_id, shard = excluded.shard,
            sender = excluded.sender
        """;

    // A repeated entry (same delivery, same sequence) is one the storage already has: keep the first.
    private const string InsertAudit = """
        INSERT INTO audit (destination, message_id, sequence, kind, at, attempt, silo, duration_ms, outcome, status_code,
            error, response_body, actor, detail)
        SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::timestamptz[], $6::int[], $7::text[],
            $8::bigint[], $9::text[], $10::int[], $11::text[], $12::text[], $13::text[], $14::text[])
        ON CONFLICT (destination, message_id, sequence) DO NOTHING
        """;

    private readonly Channel<StateWrite> _queue = Channel.CreateUnbounded<StateWrite>(
        new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = false });
    private readonly NpgsqlDataSource _dataSource;
    private readonly ILogger _logger;
    private readonly List<StateWrite> _deferred = [];
    private readonly Task _loop;
    private NpgsqlConnection? _connection;

    public PostgresWriter(NpgsqlDataSource dataSource, ILogger logger)
    {
        _dataSource = dataSource;
        _logger = logger;
        _loop = Task.Run(RunAsync);
    }

    public Task<long?> EnqueueAsync(StateWrite write)
    {
        if (write.CancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<long?>(write.CancellationToken);
        }

        if (!_queue.Writer.TryWrite(write))
        {
            throw new ObjectDisposedException(nameof(PostgresWriter), "The PostgreSQL storage has been shut down.");
        }

        return write.Completion;
    }

    private async Task RunAsync()
    {
        var batch = new List<StateWrite>(MaxBatch);
        var keys = new HashSet<(string, string)>();
        while (_deferred.Count > 0 || await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            var carried = _deferred.ToArray();
            _deferred.Clear();
            foreach (var write in carried)
            {
                Take(write);
            }

            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var write))
            {
                Take(write);
            }

            if (batch.Count > 0)
            {
                try
                {
                    await ExecuteAsync(batch).ConfigureAwait(false);
                }
                catch (Exception exception)
                {
                    // A defect of the writer itself: fail the batch, but keep the loop alive, or every later write
                    // would wait forever.
                    Log.WriterFault(_logger, exception);
                    foreach (var write in batch)
                    {
                        write.Fail(exception);
                    }
                }
            }

            batch.Clear();
            keys.Clear();
        }

        void Take(StateWrite write)
        {
            if (write.CancellationToken.IsCancellationRequested)
            {
                write.Cancel();
            }
            else if (!keys.Add((write.GrainId, write.StateName)))
            {
                // Two writes of one state never share a statement (a row is written once per statement): the
                // later one goes into the next batch, after the first has committed.
                _deferred.Add(write);
            }
            else
            {
                batch.Add(write);
            }
        }
    }

    private async Task ExecuteAsync(List<StateWrite> batch)
    {
        try
        {
            await RunTransactionAsync(batch).ConfigureAwait(false);
        }
        catch (PostgresException exception) when (batch.Count > 1 && !IsTransient(exception))
        {
            // A statement refused a value of one of the writes: find it by writing each alone.
            Log.BatchSplit(_logger, batch.Count, exception.SqlState);
            foreach (var write in batch)
            {
                try
                {
                    await RunTransactionAsync([write]).ConfigureAwait(false);
                    Finish(write);
                }
                catch (Exception alone)
                {
                    Log.WriteRefused(_logger, write.Describe(), alone);
                    write.Fail(alone);
                }
            }

            return;
        }
        catch (Exception exception)
        {
            // Nothing of the batch was committed.
            Log.BatchFailed(_logger, batch.Count, exception);
            foreach (var write in batch)
            {
                write.Fail(exception);
            }

            return;
        }

        foreach (var write in batch)
        {
            Finish(write);
        }
    }

    private void Finish(StateWrite write)
    {
        if (write.Refusal is { } refusal)
        {
            write.Fail(refusal);
            return;
        }

        write.Complete();
    }

    /// <summary>Serialization failures and deadlocks: nothing wrong with the values, the batch as a whole failed.</summary>
    private static bool IsTransient(PostgresException exception) =>
        exception.SqlState is PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected
        || exception.SqlState.StartsWith("08", StringComparison.Ordinal) // connection exceptions
        || exception.SqlState.StartsWith("57", StringComparison.Ordinal) // operator intervention (shutdown, ...)
        || exception.SqlState.StartsWith("53", StringComparison.Ordinal); // insufficient resources

    /// <summary>Writes <paramref name="writes"/> in one transaction: each gets its new version or its refusal.</summary>
    private async Task RunTransactionAsync(IReadOnlyList<StateWrite> writes)
    {
        var connection = await ConnectionAsync().ConfigureAwait(false);
        foreach (var write in writes)
        {
            write.NewVersion = null;
            write.Refusal = null;
        }

        var started = Stopwatch.GetTimestamp();
        try
        {
            await WriteStatesAsync(connection, writes).ConfigureAwait(false);
            await RefuseUnwrittenAsync(connection, writes).ConfigureAwait(false);
            await ProjectAndCommitAsync(connection, writes).ConfigureAwait(false);
            RelayStorageMetrics.Committed(RelayStorageMetrics.PostgreSql, Stopwatch.GetElapsedTime(started), writes.Count);
        }
        catch
        {
            await RollbackAsync(connection).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Round trip 1: BEGIN and the state statements; marks every write the statements wrote.</summary>
    private static async Task WriteStatesAsync(NpgsqlConnection connection, IReadOnlyList<StateWrite> writes)
    {
        var inserts = new List<StateWrite>();
        var updates = new List<StateWrite>();
        var deletes = new List<StateWrite>();
        var byKey = new Dictionary<(string, string), StateWrite>(writes.Count);
        foreach (var write in writes)
        {
            byKey.Add((write.GrainId, write.StateName), write);
            if (write.IsClear)
            {
                // A clear without an ETag changes nothing; RefuseUnwrittenAsync checks that nothing is stored.
                if (write.ExpectedVersion is not null)
                {
                    deletes.Add(write);
                }
            }
            else if (write.ExpectedVersion is null)
            {
                inserts.Add(write);
            }
            else
            {
                updates.Add(write);
            }
        }

        var batch = new NpgsqlBatch(connection);
        await using (batch.ConfigureAwait(false))
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand("BEGIN"));
            if (inserts.Count > 0)
            {
                batch.BatchCommands.Add(Command(InsertStates,
                    Text(inserts, w => w.GrainId),
                    Text(inserts, w => w.StateName),
                    Bytes(inserts, w => w.Data!),
                    Text(inserts, w => w.IsNewDelivery ? w.Row!.MessageId : null),
                    Text(inserts, w => w.IsNewDelivery ? w.Row!.ContentHash : null),
                    Text(inserts, w => w.IsNewDelivery ? w.Row!.Sender : null)));
            }

            if (updates.Count > 0)
            {
                batch.BatchCommands.Add(Command(UpdateStates,
                    Text(updates, w => w.GrainId),
                    Text(updates, w => w.StateName),
                    Array(updates, w => w.ExpectedVersion!.Value, NpgsqlDbType.Bigint),
                    Bytes(updates, w => w.Data!)));
            }

            if (deletes.Count > 0)
            {
                batch.BatchCommands.Add(Command(DeleteStates,
                    Text(deletes, w => w.GrainId),
                    Text(deletes, w => w.StateName),
                    Array(deletes, w => w.ExpectedVersion!.Value, NpgsqlDbType.Bigint)));
            }

            if (batch.BatchCommands.Count == 1)
            {
                await batch.ExecuteNonQueryAsync().ConfigureAwait(false);
                return;
            }

            var reader = await batch.ExecuteReaderAsync().ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                do
                {
                    while (await reader.ReadAsync().ConfigureAwait(false))
                    {
                        var write = byKey[(reader.GetString(0), reader.GetString(1))];
                        write.NewVersion = reader.GetInt64(2);
                    }
                }
                while (await reader.NextResultAsync().ConfigureAwait(false));
            }
        }
    }

    /// <summary>
    /// Gives every write the statements did not write its refusal: an ETag that did not match (with the version
    /// stored), or, for a new delivery whose state is not stored, its message id taken by other content. One more
    /// round trip, only when there is something to explain.
    /// </summary>
    private static async Task RefuseUnwrittenAsync(NpgsqlConnection connection, IReadOnlyList<StateWrite> writes)
    {
        var unwritten = writes.Where(w => w.NewVersion is null && !(w.IsClear && w.ExpectedVersion is null)).ToList();
        var clearsWithoutETag = writes.Where(w => w.IsClear && w.ExpectedVersion is null).ToList();
        if (unwritten.Count == 0 && clearsWithoutETag.Count == 0)
        {
            return;
        }

        var asked = unwritten.Concat(clearsWithoutETag).ToList();
        var stored = new Dictionary<(string, string), long>();
        var command = Command(StoredVersions, Text(asked, w => w.GrainId), Text(asked, w => w.StateName));
        var batch = new NpgsqlBatch(connection) { BatchCommands = { command } };
        await using (batch.ConfigureAwait(false))
        {
            var reader = await batch.ExecuteReaderAsync().ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync().ConfigureAwait(false))
                {
                    stored[(reader.GetString(0), reader.GetString(1))] = reader.GetInt64(2);
                }
            }
        }

        foreach (var write in asked)
        {
            long? current = stored.TryGetValue((write.GrainId, write.StateName), out var version) ? version : null;
            if (write.IsClear && write.ExpectedVersion is null && current is null)
            {
                continue; // nothing stored, nothing to clear
            }

            write.Refusal = write.IsNewDelivery && current is null
                ? MessageIdTakenException.For(write.Row!.MessageId)
                : Conflict(write, current);
        }
    }

    /// <summary>Round trip 2: the contents, rows and audit of the writes that were written, and COMMIT.</summary>
    private static async Task ProjectAndCommitAsync(NpgsqlConnection connection, IReadOnlyList<StateWrite> writes)
    {
        var rows = new List<DeliveryRow>();
        var audit = new List<AuditEntry>();
        var contents = new List<StateWrite>();
        foreach (var write in writes)
        {
            if (write.Refusal is null && !write.IsClear)
            {
                if (write.Content is not null)
                {
                    contents.Add(write);
                }

                if (write.Row is { } row)
                {
                    rows.Add(row);
                }

                audit.AddRange(write.Audit);
            }
        }

        var batch = new NpgsqlBatch(connection);
        await using (batch.ConfigureAwait(false))
        {
            if (contents.Count > 0)
            {
                batch.BatchCommands.Add(Command(UpsertContents,
                    Text(contents, w => w.GrainId),
                    Text(contents, w => w.StateName),
                    Bytes(contents, w => w.Content!)));
            }

            if (rows.Count > 0)
            {
                batch.BatchCommands.Add(Command(UpsertDeliveries,
                    Text(rows, r => r.Destination),
                    Text(rows, r => r.MessageId),
                    Text(rows, r => r.Topic),
                    Text(rows, r => r.Status.ToString()),
                    Array(rows, r => r.Attempts, NpgsqlDbType.Integer),
                    Times(rows, r => r.AcceptedAt),
                    Times(rows, r => r.UpdatedAt),
                    Times(rows, r => r.DueAt),
                    Times(rows, r => r.NextAttemptAt),
                    Times(rows, r => r.CompletedAt),
                    Text(rows, r => r.LastError),
                    Array(rows, r => r.ResponseStatusCode, NpgsqlDbType.Integer),
                    Text(rows, r => r.ResponseHeadersJson),
                    Text(rows, r => r.ResponseBody),
                    Text(rows, r => r.ContentHash),
                    Text(rows, r => r.CorrelationId),
                    Array(rows, r => r.Shard, NpgsqlDbType.Integer),
                    Text(rows, r => r.Sender)));
            }

            if (audit.Count > 0)
            {
                batch.BatchCommands.Add(Command(InsertAudit,
                    Text(audit, a => a.Destination),
                    Text(audit, a => a.MessageId),
                    Array(audit, a => a.Sequence, NpgsqlDbType.Integer),
                    Text(audit, a => a.Kind.ToString()),
                    Times(audit, a => a.At),
                    Array(audit, a => a.Attempt, NpgsqlDbType.Integer),
                    Text(audit, a => a.Silo),
                    Array(audit, a => a.DurationMs, NpgsqlDbType.Bigint),
                    Text(audit, a => a.Outcome?.ToString()),
                    Array(audit, a => a.StatusCode, NpgsqlDbType.Integer),
                    Text(audit, a => a.Error),
                    Text(audit, a => a.ResponseBody),
                    Text(audit, a => a.By),
                    Text(audit, a => a.Detail)));
            }

            batch.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
            await batch.ExecuteNonQueryAsync().ConfigureAwait(false);
        }
    }

    private async ValueTask<NpgsqlConnection> ConnectionAsync()
    {
        if (_connection is { FullState: System.Data.ConnectionState.Open })
        {
            return _connection;
        }

        await DropConnectionAsync().ConfigureAwait(false);
        _connection = await _dataSource.OpenConnectionAsync().ConfigureAwait(false);
        return _connection;
    }

    private async Task RollbackAsync(NpgsqlConnection connection)
    {
        try
        {
            if (connection.FullState == System.Data.ConnectionState.Open)
            {
                var rollback = new NpgsqlCommand("ROLLBACK", connection);
                await using (rollback.ConfigureAwait(false))
                {
                    await rollback.ExecuteNonQueryAsync().ConfigureAwait(false);
                }
            }
        }
        catch (Exception exception) when (exception is NpgsqlException or InvalidOperationException)
        {
            // The connection is gone or unusable: the server rolls back on its own; the next batch opens another.
            Log.ConnectionDropped(_logger, exception);
            await DropConnectionAsync().ConfigureAwait(false);
        }
    }

    private async Task DropConnectionAsync()
    {
        if (_connection is { } connection)
        {
            _connection = null;
            try
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is NpgsqlException or InvalidOperationException)
            {
                Log.ConnectionDropped(_logger, exception);
            }
        }
    }

    private static InconsistentStateException Conflict(StateWrite write, long? stored) => new(
        $"The {write.Describe()} was changed by another writer (ETag {Describe(write.ExpectedVersion)} expected, {Describe(stored)} stored).",
        storedEtag: stored is { } s ? FormatETag(s) : null,
        currentEtag: write.ExpectedVersion is { } e ? FormatETag(e) : null);

    private static string Describe(long? version) => version is { } v ? FormatETag(v) : "none";

    public static string FormatETag(long version) => version.ToString(CultureInfo.InvariantCulture);

    private static NpgsqlBatchCommand Command(string sql, params NpgsqlParameter[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.AddRange(parameters);
        return command;
    }

    private static NpgsqlParameter Text<T>(List<T> items, Func<T, string?> value) =>
        new() { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = items.Select(value).ToArray() };

    private static NpgsqlParameter Bytes<T>(List<T> items, Func<T, byte[]> value) =>
        new() { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea, Value = items.Select(value).ToArray() };

    private static NpgsqlParameter Array<T, TValue>(List<T> items, Func<T, TValue> value, NpgsqlDbType type) =>
        new() { NpgsqlDbType = NpgsqlDbType.Array | type, Value = items.Select(value).ToArray() };

    /// <summary>Times as the embedded backend keeps them: UTC, cut (not rounded) to the millisecond.</summary>
    private static NpgsqlParameter Times<T>(List<T> items, Func<T, DateTimeOffset?> value) =>
        new()
        {
            NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz,
            Value = items.Select(item => value(item) is { } time
                ? new DateTime(time.UtcTicks - (time.UtcTicks % TimeSpan.TicksPerMillisecond), DateTimeKind.Utc)
                : (DateTime?)null).ToArray(),
        };

    private static NpgsqlParameter Times<T>(List<T> items, Func<T, DateTimeOffset> value) => Times(items, item => (DateTimeOffset?)value(item));

    /// <summary>Stops taking writes, finishes every write already queued, then returns.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
        await DropConnectionAsync().ConfigureAwait(false);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 50, Level = LogLevel.Debug, Message = "PostgreSQL refused the write of {Target}; the other writes of its batch go on")]
        public static partial void WriteRefused(ILogger logger, string target, Exception exception);

        [LoggerMessage(EventId = 51, Level = LogLevel.Debug, Message = "PostgreSQL refused a batch of {Count} writes (SQLSTATE {SqlState}); writing them one by one")]
        public static partial void BatchSplit(ILogger logger, int count, string sqlState);

        [LoggerMessage(EventId = 52, Level = LogLevel.Error, Message = "A batch of {Count} writes could not be committed to PostgreSQL; every write of it failed")]
        public static partial void BatchFailed(ILogger logger, int count, Exception exception);

        [LoggerMessage(EventId = 53, Level = LogLevel.Critical, Message = "The PostgreSQL writer failed outside of a transaction; the writes of the batch failed")]
        public static partial void WriterFault(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 54, Level = LogLevel.Warning, Message = "The PostgreSQL writer's connection was dropped; the next batch opens a new one")]
        public static partial void ConnectionDropped(ILogger logger, Exception exception);
    }
}
