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
        var command = expectedVersion is null ? session.Prepared(Insert, InsertParameters) : session.Prepared(Update, UpdateParameters);
        var p = command.Parameters;
        p[0].Value = grainId;
        p[1].Value = stateName;
        p[2].Value = version;
        p[3].Value = data;
        if (expectedVersion is { } expected)
        {
            p[4].Value = expected;
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
            var write = session.Prepared(UpsertContent, ContentParameters);
            write.Parameters[0].Value = grainId;
            write.Parameters[1].Value = stateName;
            write.Parameters[2].Value = content;
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

    private static readonly string[] OtherContentParameters = ["$message", "$hash", "$sender"];

    /// <summary>A new delivery's message id is held by other content (another hash, or another sender).</summary>
    private static bool IdTaken(WriterSession session, DeliveryRow row)
    {
        var command = session.Prepared(OtherContent, OtherContentParameters);
        var p = command.Parameters;
        p[0].Value = row.MessageId;
        p[1].Value = row.ContentHash;
        p[2].Value = ToDb(row.Sender);
        return command.ExecuteScalar() is not null;
    }

    private static readonly string[] DeliveryParameters =
    [
        "$destination", "$message", "$topic", "$status", "$attempts", "$accepted", "$updated", "$due", "$next", "$completed",
        "$error", "$code", "$headers", "$body", "$hash", "$correlation", "$shard", "$sender",
    ];

    private static void WriteRow(WriterSession session, DeliveryRow row)
    {
        var command = session.Prepared(UpsertDelivery, DeliveryParameters);
        var p = command.Parameters;
        p[0].Value = row.Destination;
        p[1].Value = row.MessageId;
        p[2].Value = ToDb(row.Topic);
        p[3].Value = row.Status.ToString();
        p[4].Value = row.Attempts;
        p[5].Value = ToDb(row.AcceptedAt);
        p[6].Value = ToDb(row.UpdatedAt);
        p[7].Value = ToDb(row.DueAt);
        p[8].Value = ToDb(row.NextAttemptAt);
        p[9].Value = ToDb(row.CompletedAt);
        p[10].Value = ToDb(row.LastError);
        p[11].Value = ToDb(row.ResponseStatusCode);
        p[12].Value = ToDb(row.ResponseHeadersJson);
        p[13].Value = ToDb(row.ResponseBody);
        p[14].Value = row.ContentHash;
        p[15].Value = ToDb(row.CorrelationId);
        p[16].Value = row.Shard;
        p[17].Value = ToDb(row.Sender);
        command.ExecuteNonQuery();
    }

    private static readonly string[] AuditParameters =
    [
        "$destination", "$message", "$sequence", "$kind", "$at", "$attempt", "$silo", "$duration", "$outcome", "$code",
        "$error", "$body", "$actor", "$detail",
    ];

    private static void WriteAudit(WriterSession session, AuditEntry entry)
    {
        var command = session.Prepared(InsertAudit, AuditParameters);
        var p = command.Parameters;
        p[0].Value = entry.Destination;
        p[1].Value = entry.MessageId;
        p[2].Value = entry.Sequence;
        p[3].Value = entry.Kind.ToString();
        p[4].Value = ToDb(entry.At);
        p[5].Value = entry.Attempt;
        p[6].Value = ToDb(entry.Silo);
        p[7].Value = entry.DurationMs;
        p[8].Value = ToDb(entry.Outcome);
        p[9].Value = ToDb(entry.StatusCode);
        p[10].Value = ToDb(entry.Error);
        p[11].Value = ToDb(entry.ResponseBody);
        p[12].Value = ToDb(entry.By);
        p[13].Value = ToDb(entry.Detail);
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
