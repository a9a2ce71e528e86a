using Orleans.Storage;
using Relay.Core.Storage;
using static Relay.Storage.Sqlite.SqliteValues;

namespace Relay.Storage.Sqlite.Writing;

/// <summary>
/// Writes one grain state when its ETag still matches, and with it its content when it changed
/// (<see cref="IStateContentSerializer"/>), the delivery's index row and new audit entries
/// (<see cref="IDeliveryProjection"/>). Answers the new version.
/// </summary>
internal sealed class WriteGrainState(
    string grainId,
    string stateName,
    long? expectedVersion,
    byte[] data,
    byte[]? content,
    DeliveryRow? row,
    IReadOnlyList<AuditEntry> audit,
    CancellationToken cancellationToken) : WriteOperation<long>(cancellationToken)
{
    private const string Insert = """
        INSERT INTO grain_state (grain_id, state_name, version, data) VALUES ($grain, $state, $version, $data)
        ON CONFLICT (grain_id, state_name) DO NOTHING
        """;

    private const string Update = """
        UPDATE grain_state SET version = $version, data = $data
        WHERE grain_id = $grain AND state_name = $state AND version = $expected
        """;

    private const string UpsertContent = """
        INSERT INTO grain_content (grain_id, state_name, content) VALUES ($grain, $state, $content)
        ON CONFLICT (grain_id, state_name) DO UPDATE SET content = excluded.content
        """;

    private const string UpsertDelivery = """
        INSERT INTO deliveries (destination, message_id, topic, status, attempts, accepted_at, updated_at, due_at,
            next_attempt_at, completed_at, last_error, response_status_code, response_headers_json, response_body,
            content_hash, correlation_id, shard, sender)
        VALUES ($destination, $message, $topic, $status, $attempts, $accepted, $updated, $due,
            $next, $completed, $error, $code, $headers, $body,
            $hash, $correlation, $shard, $sender)
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
        INSERT OR IGNORE INTO audit (destination, message_id, sequence, kind, at, attempt, silo, duration_ms,
            outcome, status_code, error, response_body, actor, detail)
        VALUES ($destination, $message, $sequence, $kind, $at, $attempt, $silo, $duration,
            $outcome, $code, $error, $body, $actor, $detail)
        """;

    public override string Describe() => $"state '{stateName}' of grain {grainId}";

    protected override long Run(WriterSession session)
    {
        var version = session.NextVersion();
        var command = session.Command(expectedVersion is null ? Insert : Update);
        command.Parameters.AddWithValue("$grain", grainId);
        command.Parameters.AddWithValue("$state", stateName);
        command.Parameters.AddWithValue("$version", version);
        command.Parameters.AddWithValue("$data", data);
        if (expectedVersion is { } expected)
        {
            command.Parameters.AddWithValue("$expected", expected);
        }

        if (command.ExecuteNonQuery() != 1)
        {
            throw GrainStateConflict.Create(session, grainId, stateName, expectedVersion);
        }

        if (row is not null && expectedVersion is null && IdTaken(session, row))
        {
            // Undone with the savepoint of this write: nothing of it is stored.
            throw MessageIdTakenException.For(row.MessageId);
        }

        if (content is not null)
        {
            var write = session.Command(UpsertContent);
            write.Parameters.AddWithValue("$grain", grainId);
            write.Parameters.AddWithValue("$state", stateName);
            write.Parameters.AddWithValue("$content", content);
            write.ExecuteNonQuery();
        }

        if (row is not null)
        {
            WriteRow(session, row);
        }

        foreach (var entry in audit)
        {
            WriteAudit(session, entry);
        }

        return version;
    }

    private const string OtherContent = """
        SELECT 1 FROM deliveries WHERE message_id = $message AND (content_hash <> $hash OR sender IS NOT $sender) LIMIT 1
        """;

    /// <summary>A new delivery's message id is held by other content (another hash, or another sender).</summary>
    private static bool IdTaken(WriterSession session, DeliveryRow row)
    {
        var command = session.Command(OtherContent);
        command.Parameters.AddWithValue("$message", row.MessageId);
        command.Parameters.AddWithValue("$hash", row.ContentHash);
        command.Parameters.AddWithValue("$sender", ToDb(row.Sender));
        return command.ExecuteScalar() is not null;
    }

    private static void WriteRow(WriterSession session, DeliveryRow row)
    {
        var command = session.Command(UpsertDelivery);
        var p = command.Parameters;
        p.AddWithValue("$destination", row.Destination);
        p.AddWithValue("$message", row.MessageId);
        p.AddWithValue("$topic", ToDb(row.Topic));
        p.AddWithValue("$status", row.Status.ToString());
        p.AddWithValue("$attempts", row.Attempts);
        p.AddWithValue("$accepted", ToDb(row.AcceptedAt));
        p.AddWithValue("$updated", ToDb(row.UpdatedAt));
        p.AddWithValue("$due", ToDb(row.DueAt));
        p.AddWithValue("$next", ToDb(row.NextAttemptAt));
        p.AddWithValue("$completed", ToDb(row.CompletedAt));
        p.AddWithValue("$error", ToDb(row.LastError));
        p.AddWithValue("$code", ToDb(row.ResponseStatusCode));
        p.AddWithValue("$headers", ToDb(row.ResponseHeadersJson));
        p.AddWithValue("$body", ToDb(row.ResponseBody));
        p.AddWithValue("$hash", row.ContentHash);
        p.AddWithValue("$correlation", ToDb(row.CorrelationId));
        p.AddWithValue("$shard", row.Shard);
        p.AddWithValue("$sender", ToDb(row.Sender));
        command.ExecuteNonQuery();
    }

    private static void WriteAudit(WriterSession session, AuditEntry entry)
    {
        var command = session.Command(InsertAudit);
        var p = command.Parameters;
        p.AddWithValue("$destination", entry.Destination);
        p.AddWithValue("$message", entry.MessageId);
        p.AddWithValue("$sequence", entry.Sequence);
        p.AddWithValue("$kind", entry.Kind.ToString());
        p.AddWithValue("$at", ToDb(entry.At));
        p.AddWithValue("$attempt", entry.Attempt);
        p.AddWithValue("$silo", ToDb(entry.Silo));
        p.AddWithValue("$duration", entry.DurationMs);
        p.AddWithValue("$outcome", ToDb(entry.Outcome));
        p.AddWithValue("$code", ToDb(entry.StatusCode));
        p.AddWithValue("$error", ToDb(entry.Error));
        p.AddWithValue("$body", ToDb(entry.ResponseBody));
        p.AddWithValue("$actor", ToDb(entry.By));
        p.AddWithValue("$detail", ToDb(entry.Detail));
        command.ExecuteNonQuery();
    }
}

/// <summary>Removes one grain state row (and its content) when its ETag still matches; the delivery's index row and audit stay.</summary>
internal sealed class ClearGrainState(string grainId, string stateName, long? expectedVersion, CancellationToken cancellationToken)
    : WriteOperation<bool>(cancellationToken)
{
    protected override bool Run(WriterSession session)
    {
        if (expectedVersion is not { } expected)
        {
            // Nothing was ever read or written: fine when there is indeed nothing.
            if (GrainStateConflict.CurrentVersion(session, grainId, stateName) is not null)
            {
                throw GrainStateConflict.Create(session, grainId, stateName, expectedVersion);
            }

            return true;
        }

        var command = session.Command("DELETE FROM grain_state WHERE grain_id = $grain AND state_name = $state AND version = $expected");
        command.Parameters.AddWithValue("$grain", grainId);
        command.Parameters.AddWithValue("$state", stateName);
        command.Parameters.AddWithValue("$expected", expected);
        if (command.ExecuteNonQuery() != 1)
        {
            throw GrainStateConflict.Create(session, grainId, stateName, expectedVersion);
        }

        var content = session.Command("DELETE FROM grain_content WHERE grain_id = $grain AND state_name = $state");
        content.Parameters.AddWithValue("$grain", grainId);
        content.Parameters.AddWithValue("$state", stateName);
        content.ExecuteNonQuery();
        return true;
    }
}

internal static class GrainStateConflict
{
    public static long? CurrentVersion(WriterSession session, string grainId, string stateName)
    {
        var command = session.Command("SELECT version FROM grain_state WHERE grain_id = $grain AND state_name = $state");
        command.Parameters.AddWithValue("$grain", grainId);
        command.Parameters.AddWithValue("$state", stateName);
        return command.ExecuteScalar() is long version ? version : null;
    }

    public static InconsistentStateException Create(WriterSession session, string grainId, string stateName, long? expectedVersion)
    {
        var stored = CurrentVersion(session, grainId, stateName);
        return new InconsistentStateException(
            $"The state '{stateName}' of grain {grainId} was changed by another writer (ETag {Describe(expectedVersion)} expected, {Describe(stored)} stored).",
            storedEtag: stored is { } s ? FormatETag(s) : null,
            currentEtag: expectedVersion is { } e ? FormatETag(e) : null);
    }

    private static string Describe(long? version) => version is { } v ? FormatETag(v) : "none";
}
