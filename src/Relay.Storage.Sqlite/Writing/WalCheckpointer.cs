using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Relay.Storage.Sqlite.Writing;

/// <summary>
/// Folds the WAL back into the database file off the commit path. SQLite's automatic checkpoint runs inside the commit
/// that crosses 1,000 pages of log, so every few hundred commits one batch of writes waited for a checkpoint and its
/// <c>fsync</c> of the database file: a stall of every request in that batch (issue 14). The writer connection has
/// <c>wal_autocheckpoint = 0</c>; this runs a <c>PASSIVE</c> checkpoint (it waits for no reader or writer) on a
/// connection and a thread of its own, at most once per <see cref="Interval"/> and only after commits.
/// </summary>
internal sealed partial class WalCheckpointer : IDisposable
{
    /// <summary>At most one checkpoint per this long: about 1,000 pages of log at 2,000 messages a second.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    private readonly SqliteConnection _connection;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _committed = new(0, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;
    private long _checkpoints;

    public WalCheckpointer(string connectionString, TimeProvider time, ILogger logger)
    {
        _connection = new SqliteConnection(connectionString);
        _connection.Open();
        _time = time;
        _logger = logger;
        _thread = new Thread(Run) { IsBackground = true, Name = "Relay SQLite checkpointer" };
        _thread.Start();
    }

    /// <summary>Checkpoints run since the database was opened.</summary>
    public long Checkpoints => Interlocked.Read(ref _checkpoints);

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
                Checkpoint();
                Task.Delay(Interval, _time, stop).GetAwaiter().GetResult();
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private void Checkpoint()
    {
        try
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
            command.ExecuteNonQuery();
            Interlocked.Increment(ref _checkpoints);
        }
        catch (SqliteException exception)
        {
            // The next commit asks again; meanwhile the log only grows.
            Log.CheckpointFailed(_logger, exception.SqliteErrorCode, exception);
        }
    }

    /// <summary>Stops the thread (a checkpoint under way finishes first) and closes the connection.</summary>
    public void Dispose()
    {
        _stop.Cancel();
        _thread.Join();
        _connection.Dispose();
        _stop.Dispose();
        _committed.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "A WAL checkpoint failed (SQLite error {ErrorCode}); it is tried again after the next commit")]
        public static partial void CheckpointFailed(ILogger logger, int errorCode, Exception exception);
    }
}
