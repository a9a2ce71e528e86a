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
    private readonly Dictionary<string, SqliteStatement> _statements = new(StringComparer.Ordinal);
    private readonly SqliteStatement.TextBuffer _text = new();
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

    private static readonly string[] CounterParameters = ["$value"];

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
    /// The statement for <paramref name="sql"/>, prepared once and bound by position (<see cref="SqliteStatement"/>), for
    /// the statements every message runs: a write binds its values without making a parameter, a binder or a reader
    /// (issue 14). <paramref name="names"/> are its parameters in the order the caller numbers them.
    /// </summary>
    public SqliteStatement Statement(string sql, string[] names)
    {
        if (!_statements.TryGetValue(sql, out var statement))
        {
            statement = new SqliteStatement(_connection, sql, names, _text);
            _statements.Add(sql, statement);
        }

        return statement;
    }

    public void Savepoint() => Statement("SAVEPOINT item", []).Execute();

    public void ReleaseSavepoint() => Statement("RELEASE item", []).Execute();

    public void RollbackToSavepoint()
    {
        Command("ROLLBACK TO item").ExecuteNonQuery();
        Command("RELEASE item").ExecuteNonQuery();
    }

    public void Commit()
    {
        if (LastVersion != _persistedVersion)
        {
            var counter = Statement("UPDATE counters SET value = $value WHERE name = 'etag'", CounterParameters);
            counter.Bind(0, LastVersion);
            counter.Execute();
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
        foreach (var statement in _statements.Values)
        {
            statement.Dispose();
        }

        _statements.Clear();
    }
}
