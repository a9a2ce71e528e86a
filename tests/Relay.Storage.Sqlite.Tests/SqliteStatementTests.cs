using Microsoft.Data.Sqlite;
using Relay.Storage.Sqlite.Writing;

namespace Relay.Storage.Sqlite.Tests;

/// <summary>
/// The writer's statements bound through SQLitePCL directly (<see cref="SqliteStatement"/>) store every value exactly as
/// Microsoft.Data.Sqlite stores it, so rows written before and after the change read alike.
/// </summary>
public sealed class SqliteStatementTests : IDisposable
{
    private const string Insert = "INSERT INTO t (k, s, i, b) VALUES ($k, $s, $i, $b)";
    private static readonly string[] Parameters = ["$k", "$s", "$i", "$b"];

    private readonly string _folder = TempFolder.Create("relay-statement-");
    private readonly SqliteConnection _connection;

    public SqliteStatementTests()
    {
        _connection = new SqliteConnection($"Data Source={Path.Combine(_folder, "t.db")};Pooling=False");
        _connection.Open();
        Execute("CREATE TABLE t (k TEXT PRIMARY KEY, s TEXT, i INTEGER, b BLOB, CHECK (s IS NULL OR s <> 'refused'))");
    }

    public void Dispose()
    {
        _connection.Dispose();
        SqliteTestHost.DeleteFolder(_folder);
    }

    public static TheoryData<string?, long?, byte[]?> Values() => new()
    {
        { "plain", 42, [1, 2, 3] },
        { "", 0, [] },
        { null, null, null },
        { "héllo ✓ 😀 \u0000 inside", long.MaxValue, [0] },
        // A lone surrogate: .NET's encoder makes it U+FFFD, as Microsoft.Data.Sqlite stored it.
        { "lone \ud800 surrogate", long.MinValue, new byte[70_000] },
        { "\udc00 lone low, then a pair reversed \udc00\ud800, and a high one at the end \ud800", 1, [2] },
        // Longer than the writer's text buffer starts.
        { new string('x', 5000) + "é", -1, [255] },
    };

    [Theory]
    // Enumerated when run, not at discovery: a lone surrogate would not survive the runner's serialization of the cases.
    [MemberData(nameof(Values), DisableDiscoveryEnumeration = true)]
    public void A_value_bound_by_position_is_stored_as_Microsoft_Data_Sqlite_stores_it(string? text, long? integer, byte[]? bytes)
    {
        using (var command = _connection.CreateCommand())
        {
            command.CommandText = Insert;
            command.Parameters.AddWithValue("$k", "by-name");
            command.Parameters.AddWithValue("$s", (object?)text ?? DBNull.Value);
            command.Parameters.AddWithValue("$i", (object?)integer ?? DBNull.Value);
            command.Parameters.AddWithValue("$b", (object?)bytes ?? DBNull.Value);
            command.ExecuteNonQuery();
        }

        using var statement = new SqliteStatement(_connection, Insert, Parameters, new SqliteStatement.TextBuffer());
        statement.Bind(0, "by-position");
        statement.Bind(1, text);
        statement.Bind(2, integer);
        statement.Bind(3, bytes);

        Assert.Equal(1, statement.Execute());
        Assert.Equal(Stored("by-name"), Stored("by-position"));
    }

    [Fact]
    public void Text_values_of_one_statement_share_the_buffer_and_keep_their_own_value()
    {
        using var statement = new SqliteStatement(_connection, Insert, Parameters, new SqliteStatement.TextBuffer());
        statement.Bind(0, "first-key");
        statement.Bind(1, "second value, bound from the same buffer");
        statement.Bind(2, 1);
        statement.Bind(3, (byte[]?)null);
        statement.Execute();

        Assert.Equal(Hex("second value, bound from the same buffer") + "|text", Stored("first-key").Split(';')[0]);
    }

    [Fact]
    public void A_refused_statement_throws_what_Microsoft_Data_Sqlite_throws_and_runs_again_afterwards()
    {
        using var statement = new SqliteStatement(_connection, Insert, Parameters, new SqliteStatement.TextBuffer());
        statement.Bind(0, "k");
        statement.Bind(1, "refused");
        statement.Bind(2, 1);
        statement.Bind(3, (byte[]?)null);

        var refused = Assert.Throws<SqliteException>(() => statement.Execute());

        Assert.Equal(19, refused.SqliteErrorCode);
        Assert.Contains("CHECK constraint failed", refused.Message, StringComparison.Ordinal);
        statement.Bind(0, "k");
        statement.Bind(1, "accepted");
        statement.Bind(2, 2);
        statement.Bind(3, (byte[]?)null);
        Assert.Equal(1, statement.Execute());
        Assert.Equal(Hex("accepted") + "|text;2|integer;|null", Stored("k"));
    }

    [Fact]
    public void Values_left_unbound_are_null_at_the_next_run()
    {
        using var statement = new SqliteStatement(_connection, Insert, Parameters, new SqliteStatement.TextBuffer());
        statement.Bind(0, "one");
        statement.Bind(1, "text");
        statement.Bind(2, 7);
        statement.Bind(3, new byte[] { 1 });
        statement.Execute();

        statement.Bind(0, "two");
        statement.Execute();

        Assert.Equal("|null;NULL|null;|null", Stored("two"));
    }

    /// <summary>Each column of the row as SQLite holds it: its bytes (the integer's literal) and its storage class.</summary>
    private string Stored(string key)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT hex(s) || '|' || typeof(s) || ';' || quote(i) || '|' || typeof(i) || ';' || hex(b) || '|' || typeof(b) FROM t WHERE k = $k";
        command.Parameters.AddWithValue("$k", key);
        return (string)command.ExecuteScalar()!;
    }

    private static string Hex(string text) => Convert.ToHexString(System.Text.Encoding.UTF8.GetBytes(text));

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
