using Npgsql;
using NpgsqlTypes;
using Relay.Core.Catalog;

namespace Relay.Storage.AdoNet;

/// <summary>
/// The catalog on PostgreSQL (script 0011). A change is one transaction: it takes the next version on
/// <c>catalog_head</c> (whose row lock serializes changes across the cluster), reads the catalog, asks the caller's
/// check, and writes the entries and their audit. Changes are rare; a poll of the version is one indexed row.
/// </summary>
internal sealed class PostgresCatalogStore(NpgsqlDataSource dataSource) : ICatalogStore
{
    private const string EntriesSql = "SELECT kind, name, version, settings, updated_at, updated_by FROM catalog_entries ORDER BY kind, name";

    public async Task<long> ReadVersionAsync(CancellationToken cancellationToken = default)
    {
        var command = dataSource.CreateCommand("SELECT version FROM catalog_head WHERE id = 1");
        await using (command.ConfigureAwait(false))
        {
            return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
    }

    public async Task<CatalogSnapshot> ReadAsync(CancellationToken cancellationToken = default)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            // REPEATABLE READ: the head and the entries of one snapshot.
            var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                var version = await ReadHeadAsync(connection, transaction, forUpdate: false, cancellationToken).ConfigureAwait(false);
                var entries = await ReadEntriesAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return new CatalogSnapshot(version, entries);
            }
        }
    }

    public async Task<CatalogWriteResult> WriteAsync(CatalogWrite write, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(write);
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                // The head's row lock first: the entries read next are the latest, and stay so until this commits.
                var version = await ReadHeadAsync(connection, transaction, forUpdate: true, cancellationToken).ConfigureAwait(false);
                var snapshot = new CatalogSnapshot(version, await ReadEntriesAsync(connection, transaction, cancellationToken).ConfigureAwait(false));
                var verdict = write.Check(snapshot);
                if (verdict.Refusal is not null)
                {
                    await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
                    return new CatalogWriteResult(verdict.Refusal, version, []);
                }

                var stored = new List<CatalogEntry>();
                var batch = new NpgsqlBatch(connection, transaction);
                await using (batch.ConfigureAwait(false))
                {
                    var changes = verdict.Changes ?? write.Changes;
                    for (var i = 0; i < changes.Count; i++)
                    {
                        var change = changes[i];
                        var audit = verdict.Audit[i];
                        version++;
                        var upsert = new NpgsqlBatchCommand("""
                            INSERT INTO catalog_entries (kind, name, version, settings, updated_at, updated_by)
                            VALUES (@kind, @name, @version, @settings, @at, @by)
                            ON CONFLICT (kind, name) DO UPDATE SET version = excluded.version, settings = excluded.settings,
                                updated_at = excluded.updated_at, updated_by = excluded.updated_by
                            """);
                        upsert.Parameters.AddWithValue("kind", change.Kind.Stored());
                        upsert.Parameters.AddWithValue("name", change.Name);
                        upsert.Parameters.AddWithValue("version", version);
                        upsert.Parameters.Add(new NpgsqlParameter("settings", NpgsqlDbType.Text) { Value = (object?)change.Settings ?? DBNull.Value });
                        upsert.Parameters.AddWithValue("at", write.At);
                        upsert.Parameters.AddWithValue("by", write.By);
                        batch.BatchCommands.Add(upsert);
                        var record = new NpgsqlBatchCommand("""
                            INSERT INTO catalog_audit (version, kind, name, action, at, actor, before, after)
                            VALUES (@version, @kind, @name, @action, @at, @by, @before, @after)
                            """);
                        record.Parameters.AddWithValue("version", version);
                        record.Parameters.AddWithValue("kind", change.Kind.Stored());
                        record.Parameters.AddWithValue("name", change.Name);
                        record.Parameters.AddWithValue("action", audit.Action);
                        record.Parameters.AddWithValue("at", write.At);
                        record.Parameters.AddWithValue("by", write.By);
                        record.Parameters.Add(new NpgsqlParameter("before", NpgsqlDbType.Text) { Value = (object?)audit.Before ?? DBNull.Value });
                        record.Parameters.Add(new NpgsqlParameter("after", NpgsqlDbType.Text) { Value = (object?)audit.After ?? DBNull.Value });
                        batch.BatchCommands.Add(record);
                        stored.Add(new CatalogEntry(change.Kind, change.Name, version, change.Settings, write.At, write.By));
                    }

                    var head = new NpgsqlBatchCommand("UPDATE catalog_head SET version = @version WHERE id = 1");
                    head.Parameters.AddWithValue("version", version);
                    batch.BatchCommands.Add(head);
                    await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return new CatalogWriteResult(null, version, stored);
            }
        }
    }

    public async Task<IReadOnlyList<CatalogAuditEntry>> ReadAuditAsync(CatalogKind? kind, string? name, int limit, CancellationToken cancellationToken = default)
    {
        var command = dataSource.CreateCommand("""
            SELECT version, kind, name, action, at, actor, before, after FROM catalog_audit
            WHERE (@kind::text IS NULL OR kind = @kind) AND (@name::text IS NULL OR name = @name)
            ORDER BY version DESC, kind, name LIMIT @limit
            """);
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.Add(new NpgsqlParameter("kind", NpgsqlDbType.Text) { Value = (object?)kind?.Stored() ?? DBNull.Value });
            command.Parameters.Add(new NpgsqlParameter("name", NpgsqlDbType.Text) { Value = (object?)name ?? DBNull.Value });
            command.Parameters.AddWithValue("limit", limit);
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                var entries = new List<CatalogAuditEntry>();
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    entries.Add(new CatalogAuditEntry(reader.GetInt64(0), CatalogKinds.FromStored(reader.GetString(1)), reader.GetString(2),
                        reader.GetString(3), reader.GetFieldValue<DateTimeOffset>(4), reader.GetString(5),
                        reader.IsDBNull(6) ? null : reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetString(7)));
                }

                return entries;
            }
        }
    }

    private static async Task<long> ReadHeadAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, bool forUpdate, CancellationToken cancellationToken)
    {
        var command = new NpgsqlCommand(forUpdate ? "SELECT version FROM catalog_head WHERE id = 1 FOR UPDATE" : "SELECT version FROM catalog_head WHERE id = 1",
            connection, transaction);
        await using (command.ConfigureAwait(false))
        {
            return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
    }

    private static async Task<List<CatalogEntry>> ReadEntriesAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        var command = new NpgsqlCommand(EntriesSql, connection, transaction);
        await using (command.ConfigureAwait(false))
        {
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                var entries = new List<CatalogEntry>();
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    entries.Add(new CatalogEntry(CatalogKinds.FromStored(reader.GetString(0)), reader.GetString(1), reader.GetInt64(2),
                        reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetFieldValue<DateTimeOffset>(4), reader.GetString(5)));
                }

                return entries;
            }
        }
    }
}
