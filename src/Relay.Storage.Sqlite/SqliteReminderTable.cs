using Microsoft.Data.Sqlite;
using Orleans;
using Orleans.Runtime;
using Relay.Storage.Sqlite.Writing;
using static Relay.Storage.Sqlite.SqliteValues;

namespace Relay.Storage.Sqlite;

/// <summary>Orleans reminders in the SQLite file; writes go through the group-commit writer.</summary>
internal sealed class SqliteReminderTable(SqliteDatabase database) : IReminderTable
{
    private const string Columns = "grain_id, reminder_name, start_at, period_ms, version";

    // The database was opened (and its schema made) when this table was built.
    public Task StartAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    public Task<ReminderTableData> ReadRows(GrainId grainId) => ReadRows(grainId, CancellationToken.None);

    public Task<ReminderTableData> ReadRows(GrainId grainId, CancellationToken cancellationToken) =>
        ReadAsync($"SELECT {Columns} FROM reminders WHERE grain_id = $grain", cancellationToken, ("$grain", grainId.ToString()));

    public Task<ReminderTableData> ReadRows(uint begin, uint end) => ReadRows(begin, end, CancellationToken.None);

    /// <summary>Hashes in (begin, end]; when begin &gt;= end the range wraps: hash &gt; begin or hash &lt;= end.</summary>
    public Task<ReminderTableData> ReadRows(uint begin, uint end, CancellationToken cancellationToken) =>
        ReadAsync(
            begin < end
                ? $"SELECT {Columns} FROM reminders WHERE grain_hash > $begin AND grain_hash <= $end"
                : $"SELECT {Columns} FROM reminders WHERE grain_hash > $begin OR grain_hash <= $end",
            cancellationToken,
            ("$begin", (long)begin),
            ("$end", (long)end));

    public Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName) => ReadRow(grainId, reminderName, CancellationToken.None);

    public async Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName, CancellationToken cancellationToken)
    {
        var rows = await ReadAsync(
            $"SELECT {Columns} FROM reminders WHERE grain_id = $grain AND reminder_name = $name",
            cancellationToken,
            ("$grain", grainId.ToString()),
            ("$name", reminderName)).ConfigureAwait(false);
        return rows.Reminders.Count == 0 ? null : rows.Reminders[0];
    }

    public Task<string?> UpsertRow(ReminderEntry entry) => UpsertRow(entry, CancellationToken.None);

    public async Task<string?> UpsertRow(ReminderEntry entry, CancellationToken cancellationToken)
    {
        var version = await database.Writer.EnqueueAsync(new UpsertReminder(entry, cancellationToken)).ConfigureAwait(false);
        return FormatETag(version);
    }

    public Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag) => RemoveRow(grainId, reminderName, eTag, CancellationToken.None);

    public Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag, CancellationToken cancellationToken) =>
        TryParseETag(eTag, out var version)
            ? database.Writer.EnqueueAsync(new RemoveReminder(grainId.ToString(), reminderName, version, cancellationToken))
            : Task.FromResult(false);

    public Task TestOnlyClearTable() => TestOnlyClearTable(CancellationToken.None);

    public Task TestOnlyClearTable(CancellationToken cancellationToken) =>
        database.Writer.EnqueueAsync(new ClearReminders(cancellationToken));

    private async Task<ReminderTableData> ReadAsync(string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        var entries = new List<ReminderEntry>();
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
                entries.Add(ReadEntry(reader));
            }
        }

        return new ReminderTableData(entries);
    }

    private static ReminderEntry ReadEntry(SqliteDataReader reader) => new()
    {
        GrainId = GrainId.Parse(reader.GetString(0)),
        ReminderName = reader.GetString(1),
        StartAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)).UtcDateTime,
        Period = TimeSpan.FromMilliseconds(reader.GetInt64(3)),
        ETag = FormatETag(reader.GetInt64(4)),
    };

    private sealed class UpsertReminder(ReminderEntry entry, CancellationToken cancellationToken) : WriteOperation<long>(cancellationToken)
    {
        private const string Sql = """
            INSERT INTO reminders (grain_id, reminder_name, grain_hash, start_at, period_ms, version)
            VALUES ($grain, $name, $hash, $start, $period, $version)
            ON CONFLICT (grain_id, reminder_name) DO UPDATE SET
                grain_hash = excluded.grain_hash, start_at = excluded.start_at,
                period_ms = excluded.period_ms, version = excluded.version
            """;

        protected override long Run(WriterSession session)
        {
            // Orleans hands out local or unspecified times too; unspecified ones are UTC (as in its ADO.NET table).
            var startAt = entry.StartAt.Kind switch
            {
                DateTimeKind.Local => entry.StartAt.ToUniversalTime(),
                DateTimeKind.Unspecified => DateTime.SpecifyKind(entry.StartAt, DateTimeKind.Utc),
                _ => entry.StartAt,
            };

            var version = session.NextVersion();
            var command = session.Command(Sql);
            command.Parameters.AddWithValue("$grain", entry.GrainId.ToString());
            command.Parameters.AddWithValue("$name", entry.ReminderName);
            command.Parameters.AddWithValue("$hash", (long)entry.GrainId.GetUniformHashCode());
            command.Parameters.AddWithValue("$start", ToDb(new DateTimeOffset(startAt)));
            command.Parameters.AddWithValue("$period", (long)entry.Period.TotalMilliseconds);
            command.Parameters.AddWithValue("$version", version);
            command.ExecuteNonQuery();
            return version;
        }
    }

    private sealed class RemoveReminder(string grainId, string name, long version, CancellationToken cancellationToken) : WriteOperation<bool>(cancellationToken)
    {
        protected override bool Run(WriterSession session)
        {
            var command = session.Command("DELETE FROM reminders WHERE grain_id = $grain AND reminder_name = $name AND version = $version");
            command.Parameters.AddWithValue("$grain", grainId);
            command.Parameters.AddWithValue("$name", name);
            command.Parameters.AddWithValue("$version", version);
            return command.ExecuteNonQuery() == 1;
        }
    }

    private sealed class ClearReminders(CancellationToken cancellationToken) : WriteOperation<bool>(cancellationToken)
    {
        protected override bool Run(WriterSession session)
        {
            session.Command("DELETE FROM reminders").ExecuteNonQuery();
            return true;
        }
    }
}
