using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;

namespace Relay.Storage.Sqlite;

/// <summary>
/// Open read connections that keep their prepared statements, for the two reads every message makes (the grain
/// state read on a delivery grain's activation, and "is this message id known?"). Microsoft.Data.Sqlite prepares a
/// new command's statement again each time (it caches nothing per pooled connection); on the hot path that parsing
/// was a measurable share of the silo's CPU per message.
/// </summary>
/// <remarks>
/// A session is used by one caller at a time (rented, then returned); at most <see cref="MaxIdle"/> stay open, a
/// burst beyond that opens more and closes them on return. Each statement is one SELECT, its own WAL snapshot.
/// </remarks>
internal sealed class ReadSessions(string connectionString) : IDisposable
{
    private const int MaxIdle = 16;

    private readonly ConcurrentBag<ReadSession> _idle = [];
    private int _disposed;

    public ReadSession Rent()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_idle.TryTake(out var session))
        {
            return session;
        }

        var connection = new SqliteConnection(connectionString);
        try
        {
            connection.Open();
            return new ReadSession(connection);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    public void Return(ReadSession session)
    {
        if (Volatile.Read(ref _disposed) != 0 || _idle.Count >= MaxIdle)
        {
            session.Dispose();
            return;
        }

        _idle.Add(session);
        if (Volatile.Read(ref _disposed) != 0 && _idle.TryTake(out var late))
        {
            late.Dispose();
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        while (_idle.TryTake(out var session))
        {
            session.Dispose();
        }
    }
}

/// <summary>One open read connection and its prepared commands, one per statement text.</summary>
internal sealed class ReadSession(SqliteConnection connection) : IDisposable
{
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);

    /// <summary>The prepared command for <paramref name="sql"/>, with its parameters cleared.</summary>
    public SqliteCommand Command(string sql)
    {
        if (!_commands.TryGetValue(sql, out var command))
        {
            command = connection.CreateCommand();
            command.CommandText = sql;
            _commands.Add(sql, command);
        }

        command.Parameters.Clear();
        return command;
    }

    public void Dispose()
    {
        foreach (var command in _commands.Values)
        {
            command.Dispose();
        }

        connection.Dispose();
    }
}
