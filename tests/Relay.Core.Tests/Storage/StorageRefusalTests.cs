using System.Net.Sockets;
using Microsoft.Data.Sqlite;
using Npgsql;
using Relay.Core.Storage;

namespace Relay.Core.Tests.Storage;

/// <summary>The rule that parks a delivery instead of retrying its write: refused data yes, an outage never.</summary>
public class StorageRefusalTests
{
    [Theory]
    [InlineData("22P05", "unsupported Unicode escape sequence")]
    [InlineData("22021", "invalid byte sequence for encoding \"UTF8\": 0x00")]
    [InlineData("23514", "new row for relation \"deliveries\" violates check constraint \"x\"")]
    [InlineData("23505", "duplicate key value violates unique constraint")]
    public void PostgreSQL_data_and_integrity_errors_are_refusals(string sqlState, string text)
    {
        var refused = StorageRefusal.IsRefusal(new PostgresException(text, "ERROR", "ERROR", sqlState, detail: "Failing row contains (secret)."), out var reason);

        Assert.True(refused);
        Assert.Equal($"{sqlState}: {text}", reason);
        Assert.DoesNotContain("secret", reason);
    }

    [Theory]
    [InlineData("57P01")] // admin shutdown
    [InlineData("53300")] // too many connections
    [InlineData("40001")] // serialization failure
    [InlineData("08006")] // connection failure
    [InlineData("P0001")] // a plain RAISE: not a statement about the data
    public void Other_PostgreSQL_errors_are_outages(string sqlState) =>
        Assert.False(StorageRefusal.IsRefusal(new PostgresException("x", "FATAL", "FATAL", sqlState), out _));

    [Fact]
    public void No_answer_from_PostgreSQL_is_an_outage()
    {
        Assert.False(StorageRefusal.IsRefusal(new NpgsqlException("Failed to connect", new SocketException(111)), out _));
        Assert.False(StorageRefusal.IsRefusal(new TimeoutException(), out _));
        Assert.False(StorageRefusal.IsRefusal(new InvalidOperationException("pool exhausted"), out _));
    }

    [Theory]
    [InlineData(19, true)]  // SQLITE_CONSTRAINT (a trigger's RAISE(ABORT), a CHECK)
    [InlineData(18, true)]  // SQLITE_TOOBIG
    [InlineData(20, true)]  // SQLITE_MISMATCH
    [InlineData(5, false)]  // SQLITE_BUSY
    [InlineData(10, false)] // SQLITE_IOERR
    [InlineData(13, false)] // SQLITE_FULL
    [InlineData(14, false)] // SQLITE_CANTOPEN
    public void SQLite_result_codes_map_to_the_same_rule(int code, bool refusal) =>
        Assert.Equal(refusal, StorageRefusal.IsRefusal(new SqliteException($"SQLite Error {code}: 'x'.", code, code), out _));

    [Fact]
    public void A_refusal_wrapped_by_the_storage_is_found()
    {
        var wrapped = new AggregateException(new InvalidOperationException("write failed", new PostgresException("no", "ERROR", "ERROR", "23514")));

        Assert.True(StorageRefusal.IsRefusal(wrapped, out var reason));
        Assert.Equal("23514: no", reason);
    }

    [Fact]
    public void A_real_SQLite_trigger_refusal_is_a_refusal()
    {
        using var connection = new SqliteConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "CREATE TABLE t (a TEXT); CREATE TRIGGER no BEFORE INSERT ON t BEGIN SELECT RAISE(ABORT, 'refused'); END;";
        command.ExecuteNonQuery();
        command.CommandText = "INSERT INTO t VALUES ('x')";

        var error = Assert.Throws<SqliteException>(() => command.ExecuteNonQuery());

        Assert.True(StorageRefusal.IsRefusal(error, out var reason));
        Assert.Contains("refused", reason);
    }
}
