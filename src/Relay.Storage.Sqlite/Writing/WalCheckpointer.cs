using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Relay.Core.Telemetry;

namespace Relay.Storage.Sqlite.Writing;

/// <summary>
/// Folds the WAL back into the database file off the commit path. SQLite's automatic checkpoint runs inside the commit
/// that crosses 1,000 pages of log, so every few hundred commits one batch of writes waited for a checkpoint and its
/// <c>fsync</c> of the database file: a stall of every request in that batch (issue 14). The writer connection has
/// <c>wal_autocheckpoint = 0</c>; this runs a <c>PASSIVE</c> checkpoint (it waits for no reader or writer) on a
/// connection and a thread of its own, at most once per <see cref="Interval"/> and only after commits.
/// </summary>
/// <remarks>
/// SQLite starts the log over from its beginning only when a write transaction begins on a log folded back to its last
/// page. Under sustained load the writer appends while a checkpoint beside it folds, so that never happens and the file
/// grows without bound (8 GB after two minutes of a closed loop on the 2-core box). So once the log is past
/// <c>restartPages</c>, passive passes fold all but its last pages and the writer is asked to fold those itself,
/// between two of its transactions (<see cref="FoldDue"/>, <see cref="FoldOnWriter"/>): with nothing appended meanwhile
/// the fold completes, it waits for the readers still inside the log, and the writer's next transaction starts the log
/// over (<c>journal_size_limit</c> then trims the file). That costs the writer one short checkpoint every <c>restartPages</c> of log (64 MiB: a few seconds at full load).
/// </remarks>
internal sealed partial class WalCheckpointer : IDisposable
{
    /// <summary>At most one checkpoint per this long: about 1,000 pages of log at 2,000 messages a second.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    /// <summary>SQLite's default page, which the database keeps: the unit of the log's size.</summary>
    public const int PageBytes = 4096;

    /// <summary>The log is started over past this many pages: 64 MiB at <see cref="PageBytes"/>.</summary>
    public const int DefaultRestartPages = 16_384;

    /// <summary>What the passes beside the writer leave for the writer to fold: at most 1 MiB (then one fsync of the database file).</summary>
    private const int WriterFoldPages = 256;

    private const int MaxPasses = 8;

    /// <summary>How long the writer's fold waits for readers still inside the log before it gives up until the next time.</summary>
    private static readonly TimeSpan ReaderWait = TimeSpan.FromMilliseconds(100);

    private readonly SqliteConnection _connection;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _committed = new(0, 1);
    private readonly SemaphoreSlim _folded = new(0, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;
    private readonly int _restartPages;
    private volatile bool _foldDue;
    private long _checkpoints;
    private long _restarts;
    private int _foldsGivenUp; // the writer's thread only

    public WalCheckpointer(string connectionString, TimeProvider time, ILogger logger, int restartPages = DefaultRestartPages)
    {
        _restartPages = restartPages;
        _connection = new SqliteConnection(connectionString);
        _connection.Open();
        _time = time;
        _logger = logger;
        _thread = new Thread(Run) { IsBackground = true, Name = "Relay SQLite checkpointer" };
        _thread.Start();
    }

    /// <summary>Checkpoints run since the database was opened.</summary>
    public long Checkpoints => Interlocked.Read(ref _checkpoints);

    /// <summary>Times the writer folded the whole log, so that its next transaction started the log over.</summary>
    public long Restarts => Interlocked.Read(ref _restarts);

    /// <summary>The log is past its limit and all but its last pages are folded: the writer should call <see cref="FoldOnWriter"/>.</summary>
    public bool FoldDue => _foldDue;

    /// <summary>The writer committed: a checkpoint is due within <see cref="Interval"/>. Never blocks.</summary>
    public void Committed()
    {
        if (_committed.CurrentCount == 0)
        {
            try
            {
                _committed.Release();
            }
            catch (SemaphoreFullException)
            {
                // Another commit signalled first: one checkpoint covers both.
            }
        }
    }

    private void Run()
    {
        var stop = _stop.Token;
        try
        {
            while (true)
            {
                _committed.Wait(stop);
                if (Checkpoint())
                {
                    // No pass of this thread while the writer folds: it would hold SQLite's checkpoint lock, and the
                    // writer's fold would give up at once.
                    _folded.Wait(stop);
                }
                else
                {
                    Task.Delay(Interval, _time, stop).GetAwaiter().GetResult();
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>A round of checkpoints; true when it asked the writer to fold the log (the next round then follows the next commit at once).</summary>
    private bool Checkpoint()
    {
        try
        {
            var (_, log, folded) = WalCheckpoint(_connection, "PASSIVE");
            // Each pass folds what the writer appended during the one before, fewer pages each time.
            for (var pass = 1; log >= _restartPages && log - folded > WriterFoldPages && pass < MaxPasses; pass++)
            {
                (_, log, folded) = WalCheckpoint(_connection, "PASSIVE");
            }

            if (log >= _restartPages)
            {
                _foldDue = true;
                return true;
            }
        }
        catch (SqliteException exception)
        {
            // The next commit asks again; meanwhile the log only grows.
            Log.CheckpointFailed(_logger, exception.SqliteErrorCode, exception);
        }

        return false;
    }

    /// <summary>
    /// Run by the writer on its own thread and connection, between two transactions, when <see cref="FoldDue"/>: a
    /// <c>RESTART</c> checkpoint folds the last pages with nothing appended meanwhile, then waits for the readers still
    /// inside the log (readers that start after it read the database file only), so that the writer's next transaction
    /// starts the log over. It waits at most <see cref="ReaderWait"/>: a long read (an operator's query) makes it give up,
    /// and the next pass beside the writer asks again.
    /// </summary>
    public void FoldOnWriter(SqliteConnection writer)
    {
        _foldDue = false;
        try
        {
            var busyTimeout = Scalar(writer, "PRAGMA busy_timeout");
            Scalar(writer, $"PRAGMA busy_timeout = {(int)ReaderWait.TotalMilliseconds}");
            try
            {
                var (busy, log, _) = WalCheckpoint(writer, "RESTART");
                if (!busy)
                {
                    _foldsGivenUp = 0;
                    Interlocked.Increment(ref _restarts);
                    RelayStorageMetrics.WalRestarted();
                }
                else if (++_foldsGivenUp % 10 == 0)
                {
                    Log.FoldGivenUp(_logger, _foldsGivenUp, log * PageBytes / (1024 * 1024));
                }
            }
            finally
            {
                Scalar(writer, $"PRAGMA busy_timeout = {busyTimeout}");
            }
        }
        catch (SqliteException exception)
        {
            Log.CheckpointFailed(_logger, exception.SqliteErrorCode, exception);
        }
        finally
        {
            _folded.Release();
        }
    }

    /// <summary>
    /// A checkpoint in <paramref name="mode"/>: whether it was kept from completing (a <c>RESTART</c> that waited for
    /// readers in vain), the pages in the log, and how many of them are folded into the database file.
    /// </summary>
    private (bool Busy, long Log, long Folded) WalCheckpoint(SqliteConnection connection, string mode)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"PRAGMA wal_checkpoint({mode})";
        using var reader = command.ExecuteReader();
        reader.Read();
        Interlocked.Increment(ref _checkpoints);
        return (reader.GetInt64(0) != 0, reader.GetInt64(1), reader.GetInt64(2));
    }

    private static long Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar() is long value ? value : 0;
    }

    /// <summary>Stops the thread (a checkpoint under way finishes first) and closes the connection.</summary>
    public void Dispose()
    {
        _stop.Cancel();
        _thread.Join();
        _connection.Dispose();
        _stop.Dispose();
        _committed.Dispose();
        _folded.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "A WAL checkpoint failed (SQLite error {ErrorCode}); it is tried again after the next commit")]
        public static partial void CheckpointFailed(ILogger logger, int errorCode, Exception exception);

        [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "The SQLite write-ahead log could not start over {Times} times in a row (about {Mebibytes} MiB at the default page size): a read stays inside it for longer than 100 ms each time; the log grows until it lets go")]
        public static partial void FoldGivenUp(ILogger logger, int times, long mebibytes);
    }
}
