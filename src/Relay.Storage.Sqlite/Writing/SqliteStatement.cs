using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Relay.Storage.Sqlite.Writing;

/// <summary>
/// One statement the writer runs for every message, prepared once on the writer's connection and bound by position
/// straight through SQLitePCL. Microsoft.Data.Sqlite binds a command's parameters by name on every execution (the
/// name encoded to UTF-8 again, a binder object per parameter, every value boxed and every text value encoded into a
/// new array) and opens a data reader even for a statement without rows: together the largest share of the storage's
/// allocations per message (issue 14). Values are stored as Microsoft.Data.Sqlite stores them: text as UTF-8
/// (encoded by .NET, so even a lone surrogate is stored alike), integers as 64-bit integers, bytes as blobs.
/// </summary>
/// <remarks>
/// Runs inside the transaction the connection has open, like any statement of the connection. Used only by the writer
/// loop: not thread-safe, and the text buffer is shared by the statements of one <see cref="WriterSession"/>.
/// </remarks>
internal sealed class SqliteStatement : IDisposable
{
    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _statement;
    private readonly int[] _indexes;
    private readonly TextBuffer _text;

    /// <param name="connection">The open connection it runs on.</param>
    /// <param name="sql">One statement.</param>
    /// <param name="names">Its parameters, in the order <see cref="Bind(int, string?)"/> and the others number them.</param>
    /// <param name="text">The buffer text values are encoded into before SQLite copies them.</param>
    public SqliteStatement(SqliteConnection connection, string sql, string[] names, TextBuffer text)
    {
        _db = connection.Handle ?? throw new InvalidOperationException("The connection is not open.");
        _text = text;
        var rc = raw.sqlite3_prepare_v2(_db, sql, out _statement);
        SqliteException.ThrowExceptionForRC(rc, _db);
        _indexes = new int[names.Length];
        for (var i = 0; i < names.Length; i++)
        {
            _indexes[i] = raw.sqlite3_bind_parameter_index(_statement, names[i]);
            if (_indexes[i] == 0)
            {
                _statement.Dispose();
                throw new ArgumentException($"The statement has no parameter '{names[i]}'.", nameof(names));
            }
        }

        if (raw.sqlite3_bind_parameter_count(_statement) != names.Length)
        {
            _statement.Dispose();
            throw new ArgumentException("Every parameter of the statement must be named once.", nameof(names));
        }
    }

    /// <summary>Text, or NULL for null.</summary>
    public void Bind(int parameter, string? value)
    {
        // SQLite copies the text (SQLITE_TRANSIENT): the buffer is free again once bound. Encoded by .NET, not handed to
        // SQLite as UTF-16 (sqlite3_bind_text16): SQLite encodes a lone surrogate otherwise than .NET, which
        // Microsoft.Data.Sqlite relies on.
        var index = _indexes[parameter];
        Check(value is null ? raw.sqlite3_bind_null(_statement, index) : raw.sqlite3_bind_text(_statement, index, _text.Encode(value)));
    }

    public void Bind(int parameter, long value) => Check(raw.sqlite3_bind_int64(_statement, _indexes[parameter], value));

    /// <summary>An integer, or NULL for null.</summary>
    public void Bind(int parameter, long? value) =>
        Check(value is { } v ? raw.sqlite3_bind_int64(_statement, _indexes[parameter], v) : raw.sqlite3_bind_null(_statement, _indexes[parameter]));

    /// <summary>A blob (copied by SQLite), or NULL for null.</summary>
    public void Bind(int parameter, byte[]? value)
    {
        var index = _indexes[parameter];
        Check(value switch
        {
            null => raw.sqlite3_bind_null(_statement, index),
            _ => raw.sqlite3_bind_blob(_statement, index, value),
        });
    }

    /// <summary>Runs the statement to its end; answers the rows it changed.</summary>
    public int Execute()
    {
        try
        {
            int rc;
            while ((rc = raw.sqlite3_step(_statement)) == raw.SQLITE_ROW)
            {
            }

            Check(rc, raw.SQLITE_DONE);
            return raw.sqlite3_changes(_db);
        }
        finally
        {
            raw.sqlite3_reset(_statement);
            raw.sqlite3_clear_bindings(_statement);
        }
    }

    /// <summary>Runs the statement up to its first row: whether it has one.</summary>
    public bool Exists()
    {
        try
        {
            var rc = raw.sqlite3_step(_statement);
            if (rc == raw.SQLITE_ROW)
            {
                return true;
            }

            Check(rc, raw.SQLITE_DONE);
            return false;
        }
        finally
        {
            raw.sqlite3_reset(_statement);
            raw.sqlite3_clear_bindings(_statement);
        }
    }

    private void Check(int rc, int expected = raw.SQLITE_OK)
    {
        if (rc != expected)
        {
            // The same exception Microsoft.Data.Sqlite throws: code, extended code and SQLite's message.
            SqliteException.ThrowExceptionForRC(rc, _db);
        }
    }

    public void Dispose() => _statement.Dispose();

    /// <summary>The writer's buffer for text values, UTF-8 encoded; grows to the longest value and stays.</summary>
    internal sealed class TextBuffer
    {
        private byte[] _bytes = new byte[1024];

        public ReadOnlySpan<byte> Encode(string value)
        {
            var max = Encoding.UTF8.GetMaxByteCount(value.Length);
            if (max > _bytes.Length)
            {
                _bytes = new byte[Math.Max(max, _bytes.Length * 2)];
            }

            return _bytes.AsSpan(0, Encoding.UTF8.GetBytes(value, _bytes));
        }
    }
}
