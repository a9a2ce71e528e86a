using System.Data.Common;

namespace Relay.Core.Storage;

/// <summary>
/// Tells a write the database refused for its data (it can never succeed as it is) from a database that is down or
/// busy (the same write succeeds later). The rule, in docs/ARCHITECTURE.md ("Crash safety"): the database answered
/// with an SQLSTATE of class <c>22</c> (data exception: a NUL in text, a value out of range, bad encoding) or
/// <c>23</c> (integrity constraint violation: a check, a trigger's refusal, a foreign key). Anything else (no answer,
/// a connection lost, a timeout, a shutdown, disk full, locks) is an outage.
/// </summary>
public static class StorageRefusal
{
    // SQLite has no SQLSTATE: its primary result codes of the same meaning (https://sqlite.org/rescode.html).
    private const int SqliteTooBig = 18;
    private const int SqliteConstraint = 19;
    private const int SqliteMismatch = 20;

    /// <summary>
    /// Whether <paramref name="exception"/> (or one it wraps) is the database refusing the data; if so,
    /// <paramref name="reason"/> is its code and the first line of its message (no row values: Npgsql keeps the
    /// DETAIL line, which may quote them, on a line of its own, redacted unless asked).
    /// </summary>
    public static bool IsRefusal(Exception exception, out string reason)
    {
        ArgumentNullException.ThrowIfNull(exception);
        foreach (var db in Chain(exception).OfType<DbException>())
        {
            var state = SqlStateOf(db);
            if (state is { Length: 5 } && (state.StartsWith("22", StringComparison.Ordinal) || state.StartsWith("23", StringComparison.Ordinal)))
            {
                var line = db.Message.AsSpan();
                if (line.IndexOfAny('\r', '\n') is >= 0 and var end)
                {
                    line = line[..end];
                }

                reason = line.Length > 300 ? string.Concat(line[..300], "…") : line.ToString();
                if (!reason.StartsWith(state, StringComparison.Ordinal))
                {
                    reason = $"{state}: {reason}";
                }

                return true;
            }
        }

        reason = "";
        return false;
    }

    /// <summary>The SQLSTATE a provider gives; for Microsoft.Data.Sqlite, which gives none, its result code mapped to one.</summary>
    internal static string? SqlStateOf(DbException exception)
    {
        if (exception.SqlState is { } state)
        {
            return state;
        }

        // Read by name: Relay.Core references no database provider.
        return exception.GetType().GetProperty("SqliteErrorCode")?.GetValue(exception) switch
        {
            SqliteConstraint => "23000",
            SqliteTooBig or SqliteMismatch => "22000",
            _ => null,
        };
    }

    private static IEnumerable<Exception> Chain(Exception exception)
    {
        var pending = new Stack<Exception>();
        pending.Push(exception);
        var seen = 0;
        while (pending.Count > 0 && seen++ < 32)
        {
            var next = pending.Pop();
            yield return next;
            if (next is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions)
                {
                    pending.Push(inner);
                }
            }
            else if (next.InnerException is { } inner)
            {
                pending.Push(inner);
            }
        }
    }
}
