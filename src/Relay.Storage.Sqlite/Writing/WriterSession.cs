using Microsoft.Data.Sqlite;

namespace Relay.Storage.Sqlite.Writing;

/// <summary>
/// The writer connection as the operations of one batch see it: prepared commands bound to the batch's
/// transaction, and the ETag counter.
/// </summary>
/// <remarks>Used only by the writer loop, so nothing here is thread-safe.</remarks>
internal sealed class WriterSession : IDisposable
{
    private readonly SqliteConnection _connection;
    // Microsoft.Data.Sqlite keeps a command's statements prepared for as long as its text does not change,
    // so one command per statement text saves the parsing on every write.
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);
    private SqliteTransaction? _transaction;
    private long _persistedVersion;

    public WriterSession(SqliteConnection connection, long lastVersion)
    {
        _connection = connection;
        LastVersion = lastVersion;
        _persistedVersion = lastVersion;
    }

    /// <summary>The highest ETag version handed out.</summary>
    public long LastVersion { get; private set; }

    /// <summary>A version never used before, for an ETag.</summary>
    public long NextVersion() => ++LastVersion;

    public void Begin()
    {
        _transaction = _connection.BeginTransaction(deferred: false);
    }

    /// <summary>A prepared command for <paramref name="sql"/>, in the batch's transaction, with no parameters yet.</summary>
    public SqliteCommand Command(string sql)
    {
        if (!_commands.TryGetValue(sql, out var command))
        {
            command = _connection.CreateCommand();
            command.CommandText = sql;
            _commands.Add(sql, command);
        }

        command.Transaction = _transaction;
        command.Parameters.Clear();
        return command;
    }

    /// <summary>
    /// A prepared command for <paramref name="sql"/>, in the batch's transaction, whose parameters are made once, in the
    /// order of <paramref name="names"/>: the caller sets each <c>Parameters[i].Value</c>. For the statements every
    /// message runs, so that a write does not make its parameter objects again (issue 14).
    /// </summary>
    public SqliteCommand Prepared(string sql, string[] names)
    {
        if (!_commands.TryGetValue(sql, out var command))
        {
            command = _connection.CreateCommand();
            command.CommandText = sql;
            foreach (var name in names)
            {
                command.Parameters.Add(new SqliteParameter(name, DBNull.Value));
            }

            _commands.Add(sql, command);
        }

        command.Transaction = _transaction;
        return command;
    }

    public void Savepoint() => Command("SAVEPOINT item").ExecuteNonQuery();

    public void ReleaseSavepoint() => Command("RELEASE item").ExecuteNonQuery();

    public void RollbackToSavepoint()
    {
        Command("ROLLBACK TO item").ExecuteNonQuery();
        Command("RELEASE item").ExecuteNonQuery();
    }

    public void Commit()
    {
        if (LastVersion != _persistedVersion)
        {
            var command = Command("UPDATE counters SET value = $value WHERE name = 'etag'");
            command.Parameters.AddWithValue("$value", LastVersion);
            command.ExecuteNonQuery();
        }

        _transaction!.Commit();
        _persistedVersion = LastVersion;
        EndTransaction();
    }

    /// <summary>Undoes the batch. The versions it handed out stay used: a gap is harmless, a reuse is not.</summary>
    public void Rollback()
    {
        if (_transaction is null)
        {
            return;
        }

        try
        {
            _transaction.Rollback();
        }
        catch (SqliteException)
        {
            // SQLite already rolled back on its own (it does on a full disk or an I/O error).
        }
        finally
        {
            EndTransaction();
        }
    }

    private void EndTransaction()
    {
        _transaction?.Dispose();
        _transaction = null;
    }

    public void Dispose()
    {
        EndTransaction();
        foreach (var command in _commands.Values)
        {
            command.Dispose();
        }

        _commands.Clear();
    }
}
