using Microsoft.Data.Sqlite;
using Relay.Core.Catalog;
using Relay.Storage.Sqlite.Writing;

namespace Relay.Storage.Sqlite;

/// <summary>
/// The catalog in the SQLite file (<c>catalog_entries</c>, <c>catalog_audit</c>, schema version 6). A change is one
/// operation of the group-commit writer: it reads the catalog, asks the caller's check, and writes the entries and their
/// audit, all in the writer's transaction, where no other write can come between.
/// </summary>
internal sealed class SqliteCatalogStore(SqliteDatabase database) : ICatalogStore
{
    private const string EntriesSql = "SELECT kind, name, version, settings, updated_at, updated_by FROM catalog_entries ORDER BY kind, name";
    private const string VersionSql = "SELECT value FROM counters WHERE name = 'catalog'";

    public async Task<long> ReadVersionAsync(CancellationToken cancellationToken = default)
    {
        var connection = await database.OpenReadConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            using var command = connection.CreateCommand();
            command.CommandText = VersionSql;
            return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
    }

    public async Task<CatalogSnapshot> ReadAsync(CancellationToken cancellationToken = default)
    {
        var connection = await database.OpenReadConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            // One transaction: the version and the entries of one snapshot.
            using var transaction = connection.BeginTransaction(deferred: true);
            using var version = connection.CreateCommand();
            version.Transaction = transaction;
            version.CommandText = VersionSql;
            var current = (long)(await version.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = EntriesSql;
            using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return new CatalogSnapshot(current, ReadEntries(reader));
        }
    }

    public Task<CatalogWriteResult> WriteAsync(CatalogWrite write, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(write);
        return database.Writer.EnqueueAsync(new Write(write, cancellationToken));
    }

    public async Task<IReadOnlyList<CatalogAuditEntry>> ReadAuditAsync(CatalogKind? kind, string? name, int limit, CancellationToken cancellationToken = default)
    {
        var connection = await database.OpenReadConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            using var command = connection.CreateCommand();
            command.CommandText = """
                SELECT version, kind, name, action, at, actor, before, after FROM catalog_audit
                WHERE ($kind IS NULL OR kind = $kind) AND ($name IS NULL OR name = $name)
                ORDER BY version DESC, kind, name LIMIT $limit
                """;
            command.Parameters.AddWithValue("$kind", SqliteValues.ToDb(kind?.Stored()));
            command.Parameters.AddWithValue("$name", SqliteValues.ToDb(name));
            command.Parameters.AddWithValue("$limit", limit);
            using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var entries = new List<CatalogAuditEntry>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                entries.Add(new CatalogAuditEntry(reader.GetInt64(0), CatalogKinds.FromStored(reader.GetString(1)), reader.GetString(2),
                    reader.GetString(3), SqliteValues.Time(reader, 4), reader.GetString(5),
                    SqliteValues.NullableString(reader, 6), SqliteValues.NullableString(reader, 7)));
            }

            return entries;
        }
    }

    private static List<CatalogEntry> ReadEntries(SqliteDataReader reader)
    {
        var entries = new List<CatalogEntry>();
        while (reader.Read())
        {
            entries.Add(new CatalogEntry(CatalogKinds.FromStored(reader.GetString(0)), reader.GetString(1), reader.GetInt64(2),
                SqliteValues.NullableString(reader, 3), SqliteValues.Time(reader, 4), reader.GetString(5)));
        }

        return entries;
    }

    private sealed class Write(CatalogWrite write, CancellationToken cancellationToken) : WriteOperation<CatalogWriteResult>(cancellationToken)
    {
        public override string Describe() => "catalog change";

        protected override CatalogWriteResult Run(WriterSession session)
        {
            var version = (long)session.Command(VersionSql).ExecuteScalar()!;
            CatalogSnapshot snapshot;
            using (var reader = session.Command(EntriesSql).ExecuteReader())
            {
                snapshot = new CatalogSnapshot(version, ReadEntries(reader));
            }

            var verdict = write.Check(snapshot);
            if (verdict.Refusal is not null)
            {
                return new CatalogWriteResult(verdict.Refusal, version, []);
            }

            var stored = new List<CatalogEntry>();
            var changes = verdict.Changes ?? write.Changes;
            for (var i = 0; i < changes.Count; i++)
            {
                var change = changes[i];
                var audit = verdict.Audit[i];
                version++;
                var upsert = session.Command("""
                    INSERT INTO catalog_entries (kind, name, version, settings, updated_at, updated_by)
                    VALUES ($kind, $name, $version, $settings, $at, $by)
                    ON CONFLICT (kind, name) DO UPDATE SET version = excluded.version, settings = excluded.settings,
                        updated_at = excluded.updated_at, updated_by = excluded.updated_by
                    """);
                upsert.Parameters.AddWithValue("$kind", change.Kind.Stored());
                upsert.Parameters.AddWithValue("$name", change.Name);
                upsert.Parameters.AddWithValue("$version", version);
                upsert.Parameters.AddWithValue("$settings", SqliteValues.ToDb(change.Settings));
                upsert.Parameters.AddWithValue("$at", SqliteValues.ToDb(write.At));
                upsert.Parameters.AddWithValue("$by", write.By);
                upsert.ExecuteNonQuery();
                var record = session.Command("""
                    INSERT INTO catalog_audit (version, kind, name, action, at, actor, before, after)
                    VALUES ($version, $kind, $name, $action, $at, $by, $before, $after)
                    """);
                record.Parameters.AddWithValue("$version", version);
                record.Parameters.AddWithValue("$kind", change.Kind.Stored());
                record.Parameters.AddWithValue("$name", change.Name);
                record.Parameters.AddWithValue("$action", audit.Action);
                record.Parameters.AddWithValue("$at", SqliteValues.ToDb(write.At));
                record.Parameters.AddWithValue("$by", write.By);
                record.Parameters.AddWithValue("$before", SqliteValues.ToDb(audit.Before));
                record.Parameters.AddWithValue("$after", SqliteValues.ToDb(audit.After));
                record.ExecuteNonQuery();
                stored.Add(new CatalogEntry(change.Kind, change.Name, version, change.Settings, write.At, write.By));
            }

            var counter = session.Command("UPDATE counters SET value = $value WHERE name = 'catalog'");
            counter.Parameters.AddWithValue("$value", version);
            counter.ExecuteNonQuery();
            return new CatalogWriteResult(null, version, stored);
        }
    }
}
