using Microsoft.Data.Sqlite;

namespace Relay.Storage.Sqlite.Schema;

/// <summary>
/// The tables of the embedded database. Times are INTEGER unix milliseconds (UTC); enums are stored by name,
/// so a reordered enum cannot silently change stored data and the file stays readable with the sqlite3 shell.
/// </summary>
internal static class SqliteSchema
{
    /// <summary>Raised when a change to the statements below needs existing files to be migrated.</summary>
    public const int CurrentVersion = 6;

    private const string Tables = """
        CREATE TABLE IF NOT EXISTS schema_version (
            version    INTEGER NOT NULL PRIMARY KEY,
            applied_at INTEGER NOT NULL
        );

        -- Orleans grain state. version is the ETag; it comes from the 'etag' counter below, so a version is
        -- never reused, not even after a ClearStateAsync removed the row.
        CREATE TABLE IF NOT EXISTS grain_state (
            grain_id   TEXT    NOT NULL,
            state_name TEXT    NOT NULL,
            version    INTEGER NOT NULL,
            data       BLOB    NOT NULL,
            PRIMARY KEY (grain_id, state_name)
        );

        -- Version 4: a state's content kept apart (a delivery's payload, content type and headers), written only when
        -- it changed, so that an attempt's write is a small row. States written before hold their content in data.
        CREATE TABLE IF NOT EXISTS grain_content (
            grain_id   TEXT NOT NULL,
            state_name TEXT NOT NULL,
            content    BLOB NOT NULL,
            PRIMARY KEY (grain_id, state_name)
        );

        CREATE TABLE IF NOT EXISTS counters (
            name  TEXT    NOT NULL PRIMARY KEY,
            value INTEGER NOT NULL
        );
        INSERT OR IGNORE INTO counters (name, value) VALUES ('etag', 0);

        -- One row per delivery, written in the same transaction as the delivery grain's state.
        CREATE TABLE IF NOT EXISTS deliveries (
            destination           TEXT    NOT NULL,
            message_id            TEXT    NOT NULL,
            topic                 TEXT,
            status                TEXT    NOT NULL,
            attempts              INTEGER NOT NULL,
            accepted_at           INTEGER NOT NULL,
            updated_at            INTEGER NOT NULL,
            due_at                INTEGER,
            next_attempt_at       INTEGER,
            completed_at          INTEGER,
            last_error            TEXT,
            response_status_code  INTEGER,
            response_headers_json TEXT,
            response_body         TEXT,
            content_hash          TEXT    NOT NULL,
            correlation_id        TEXT,
            shard                 INTEGER NOT NULL,
            sender                TEXT,
            PRIMARY KEY (destination, message_id)
        );
        CREATE INDEX IF NOT EXISTS ix_deliveries_message ON deliveries (message_id);
        -- Version 4: by due time first, so that a scheduler's poll reads the due entries only (in place of (shard, due_at)).
        CREATE INDEX IF NOT EXISTS ix_deliveries_due_at ON deliveries (due_at, shard) WHERE due_at IS NOT NULL;
        CREATE INDEX IF NOT EXISTS ix_deliveries_accepted ON deliveries (accepted_at DESC, message_id DESC);
        CREATE INDEX IF NOT EXISTS ix_deliveries_status ON deliveries (status, destination, message_id);
        -- Version 3 (the portal): the message list by topic, newest first; the overview's counts of the last hour and day.
        CREATE INDEX IF NOT EXISTS ix_deliveries_topic ON deliveries (topic, accepted_at DESC, message_id DESC) WHERE topic IS NOT NULL;
        CREATE INDEX IF NOT EXISTS ix_deliveries_updated ON deliveries (updated_at, destination, status);

        CREATE TABLE IF NOT EXISTS audit (
            destination   TEXT    NOT NULL,
            message_id    TEXT    NOT NULL,
            sequence      INTEGER NOT NULL,
            kind          TEXT    NOT NULL,
            at            INTEGER NOT NULL,
            attempt       INTEGER NOT NULL,
            silo          TEXT,
            duration_ms   INTEGER NOT NULL,
            outcome       TEXT,
            status_code   INTEGER,
            error         TEXT,
            response_body TEXT,
            actor         TEXT,
            detail        TEXT,
            PRIMARY KEY (destination, message_id, sequence)
        );
        CREATE INDEX IF NOT EXISTS ix_audit_message ON audit (message_id, at, sequence);
        CREATE INDEX IF NOT EXISTS ix_audit_at ON audit (at);

        -- Version 5: ordering queues, one row per waiting message (Relay.Core's OrderingQueueKey: destination/sender/key),
        -- in place of one grain state holding the whole list (moved by the silo at the key's first use: OrderingKeyGrain).
        CREATE TABLE IF NOT EXISTS ordering_queue (
            queue_key  TEXT    NOT NULL,
            seq        INTEGER NOT NULL,
            message_id TEXT    NOT NULL,
            PRIMARY KEY (queue_key, seq)
        );
        CREATE UNIQUE INDEX IF NOT EXISTS ux_ordering_queue_message ON ordering_queue (queue_key, message_id);

        -- Version 6: the catalog (destinations, contracts, topics managed at runtime). settings is the entry's JSON, of
        -- the shape of its configuration entry; NULL for a deleted one (a tombstone: a name once known is not seeded
        -- again from configuration). version is the catalog's version of the entry's last change, from the 'catalog'
        -- counter: one number for the whole catalog, which the silo compares to know it is current.
        CREATE TABLE IF NOT EXISTS catalog_entries (
            kind       TEXT    NOT NULL,
            name       TEXT    NOT NULL,
            version    INTEGER NOT NULL,
            settings   TEXT,
            updated_at INTEGER NOT NULL,
            updated_by TEXT    NOT NULL,
            PRIMARY KEY (kind, name)
        );
        INSERT OR IGNORE INTO counters (name, value) VALUES ('catalog', 0);
        -- Every change of the catalog: who, when, before and after (secrets redacted before they get here).
        CREATE TABLE IF NOT EXISTS catalog_audit (
            version INTEGER NOT NULL,
            kind    TEXT    NOT NULL,
            name    TEXT    NOT NULL,
            action  TEXT    NOT NULL,
            at      INTEGER NOT NULL,
            actor   TEXT    NOT NULL,
            before  TEXT,
            after   TEXT,
            PRIMARY KEY (version, kind, name)
        );
        CREATE INDEX IF NOT EXISTS ix_catalog_audit_entry ON catalog_audit (kind, name, version DESC);

        -- Orleans reminders. grain_hash is GrainId.GetUniformHashCode() (0 .. 2^32-1) for the range reads.
        CREATE TABLE IF NOT EXISTS reminders (
            grain_id      TEXT    NOT NULL,
            reminder_name TEXT    NOT NULL,
            grain_hash    INTEGER NOT NULL,
            start_at      INTEGER NOT NULL,
            period_ms     INTEGER NOT NULL,
            version       INTEGER NOT NULL,
            PRIMARY KEY (grain_id, reminder_name)
        );
        CREATE INDEX IF NOT EXISTS ix_reminders_hash ON reminders (grain_hash);
        """;

    /// <summary>Creates what is missing; harmless on a database that already has the schema.</summary>
    public static void Apply(SqliteConnection connection, DateTimeOffset now)
    {
        using var transaction = connection.BeginTransaction(deferred: false);

        using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = Tables;
            command.ExecuteNonQuery();
        }

        int? stored;
        using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = "SELECT MAX(version) FROM schema_version";
            var value = command.ExecuteScalar();
            stored = value is long version ? (int)version : null;
        }

        if (stored > CurrentVersion)
        {
            throw new InvalidOperationException(
                $"The database has schema version {stored}, newer than this build of Relay understands ({CurrentVersion}).");
        }

        // Version 2: deliveries.sender (the name of the sender key that sent a message).
        if (stored is 1)
        {
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = """
                ALTER TABLE deliveries ADD COLUMN sender TEXT;
                INSERT INTO schema_version (version, applied_at) VALUES (2, $at);
                """;
            command.Parameters.AddWithValue("$at", now.ToUnixTimeMilliseconds());
            command.ExecuteNonQuery();
        }

        // Version 3: indexes only, created above by IF NOT EXISTS on a database of any version.
        if (stored is 1 or 2)
        {
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "INSERT INTO schema_version (version, applied_at) VALUES (3, $at)";
            command.Parameters.AddWithValue("$at", now.ToUnixTimeMilliseconds());
            command.ExecuteNonQuery();
        }

        // Version 4: grain_content and ix_deliveries_due_at, created above by IF NOT EXISTS (states stored before read
        // back whole); the due index they replace goes.
        if (stored is 1 or 2 or 3)
        {
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = """
                DROP INDEX IF EXISTS ix_deliveries_due;
                INSERT INTO schema_version (version, applied_at) VALUES (4, $at);
                """;
            command.Parameters.AddWithValue("$at", now.ToUnixTimeMilliseconds());
            command.ExecuteNonQuery();
        }

        // Version 5: ordering_queue, created above by IF NOT EXISTS (queues stored before are moved by the silo).
        if (stored is 1 or 2 or 3 or 4)
        {
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "INSERT INTO schema_version (version, applied_at) VALUES (5, $at)";
            command.Parameters.AddWithValue("$at", now.ToUnixTimeMilliseconds());
            command.ExecuteNonQuery();
        }

        // Version 6: catalog_entries, catalog_audit and the 'catalog' counter, created above by IF NOT EXISTS.
        if (stored is 1 or 2 or 3 or 4 or 5)
        {
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "INSERT INTO schema_version (version, applied_at) VALUES (6, $at)";
            command.Parameters.AddWithValue("$at", now.ToUnixTimeMilliseconds());
            command.ExecuteNonQuery();
        }

        if (stored is null)
        {
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "INSERT INTO schema_version (version, applied_at) VALUES ($version, $at)";
            command.Parameters.AddWithValue("$version", CurrentVersion);
            command.Parameters.AddWithValue("$at", now.ToUnixTimeMilliseconds());
            command.ExecuteNonQuery();
        }

        transaction.Commit();
    }
}
