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

    private static readonly string[] InsertParameters = ["$grain", "$state", "$version", "$data"];
    private static readonly string[] UpdateParameters = ["$grain", "$state", "$version", "$data", "$expected"];
    private static readonly string[] ContentParameters = ["$grain", "$state", "$content"];

    protected override long Run(WriterSession session)
    {
        var version = session.NextVersion();
        var write = expectedVersion is null ? session.Statement(Insert, InsertParameters) : session.Statement(Update, UpdateParameters);
        write.Bind(0, grainId);
        write.Bind(1, stateName);
        write.Bind(2, version);
        write.Bind(3, data);
        if (expectedVersion is { } expected)
        {
            write.Bind(4, expected);
        }

        if (write.Execute() != 1)
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
            var upsert = session.Statement(UpsertContent, ContentParameters);
            upsert.Bind(0, grainId);
            upsert.Bind(1, stateName);
            upsert.Bind(2, content);
            upsert.Execute();
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

    private static readonly string[] OtherContentParameters = ["$message", "$hash", "$sender"];

    /// <summary>A new delivery's message id is held by other content (another hash, or another sender).</summary>
    private static bool IdTaken(WriterSession session, DeliveryRow row)
    {
        var select = session.Statement(OtherContent, OtherContentParameters);
        select.Bind(0, row.MessageId);
        select.Bind(1, row.ContentHash);
        select.Bind(2, row.Sender);
        return select.Exists();
    }

    private static readonly string[] DeliveryParameters =
    [
        "$destination", "$message", "$topic", "$status", "$attempts", "$accepted", "$updated", "$due", "$next", "$completed",
        "$error", "$code", "$headers", "$body", "$hash", "$correlation", "$shard", "$sender",
    ];

    private static void WriteRow(WriterSession session, DeliveryRow row)
    {
        var upsert = session.Statement(UpsertDelivery, DeliveryParameters);
        upsert.Bind(0, row.Destination);
        upsert.Bind(1, row.MessageId);
        upsert.Bind(2, row.Topic);
        upsert.Bind(3, Name(row.Status));
        upsert.Bind(4, row.Attempts);
        upsert.Bind(5, ToDb(row.AcceptedAt));
        upsert.Bind(6, ToDb(row.UpdatedAt));
        upsert.Bind(7, Millis(row.DueAt));
        upsert.Bind(8, Millis(row.NextAttemptAt));
        upsert.Bind(9, Millis(row.CompletedAt));
        upsert.Bind(10, row.LastError);
        upsert.Bind(11, row.ResponseStatusCode);
        upsert.Bind(12, row.ResponseHeadersJson);
        upsert.Bind(13, row.ResponseBody);
        upsert.Bind(14, row.ContentHash);
        upsert.Bind(15, row.CorrelationId);
        upsert.Bind(16, row.Shard);
        upsert.Bind(17, row.Sender);
        upsert.Execute();
    }

    private static readonly string[] AuditParameters =
    [
        "$destination", "$message", "$sequence", "$kind", "$at", "$attempt", "$silo", "$duration", "$outcome", "$code",
        "$error", "$body", "$actor", "$detail",
    ];

    private static void WriteAudit(WriterSession session, AuditEntry entry)
    {
        var insert = session.Statement(InsertAudit, AuditParameters);
        insert.Bind(0, entry.Destination);
        insert.Bind(1, entry.MessageId);
        insert.Bind(2, entry.Sequence);
        insert.Bind(3, Name(entry.Kind));
        insert.Bind(4, ToDb(entry.At));
        insert.Bind(5, entry.Attempt);
        insert.Bind(6, entry.Silo);
        insert.Bind(7, entry.DurationMs);
        insert.Bind(8, entry.Outcome is { } outcome ? Name(outcome) : null);
        insert.Bind(9, entry.StatusCode);
        insert.Bind(10, entry.Error);
        insert.Bind(11, entry.ResponseBody);
        insert.Bind(12, entry.By);
        insert.Bind(13, entry.Detail);
        insert.Execute();
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
