using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Relay.Core.Telemetry;

namespace Relay.Storage.Sqlite.Writing;

/// <summary>
/// The only writer of the database file. Callers queue <see cref="WriteOperation"/>s; a loop takes every
/// queued one (up to <see cref="MaxBatch"/>), runs them in one transaction and commits once, so many
/// concurrent writes share one fsync. While a batch commits, the next one queues up: the busier the
/// router, the larger the batches, with no timer adding latency to a lone write.
/// </summary>
/// <remarks>
/// The loop runs on a thread of its own: a commit blocks in <c>fsync</c>, and on a pool thread that block stalled the
/// requests queued behind it on a 2-core machine (issue 14's tail). WAL checkpoints are not run on this thread either
/// (<see cref="WalCheckpointer"/>): after each commit the writer only signals that the log grew, and once every
/// 64 MiB of log folds its last pages so that the log starts over. The queue is a list
/// under a lock: a write queued while the writer sleeps wakes the writer's thread itself (<see cref="Monitor.Pulse"/>),
/// and one queued while it commits wakes nothing. (A channel woke the writer through a thread-pool work item, one more
/// thread switch per commit.)
/// </remarks>
internal sealed partial class GroupCommitWriter : IAsyncDisposable
{
    public const int MaxBatch = 512;

    private readonly object _gate = new();
    private List<WriteOperation> _queued = new(MaxBatch);
    private bool _accepting = true;
    private bool _sleeping;
    private readonly SqliteConnection _connection;
    private readonly WriterSession _session;
    private readonly ILogger _logger;
    private readonly Thread _thread;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly WalCheckpointer? _checkpointer;
    private long _commits;
    private long _writes;

    /// <param name="checkpointer">Told of each commit; asks the writer, now and then, to fold the log's last pages.</param>
    public GroupCommitWriter(SqliteConnection connection, long lastVersion, ILogger logger, WalCheckpointer? checkpointer = null)
    {
        _connection = connection;
        _session = new WriterSession(connection, lastVersion);
        _logger = logger;
        _checkpointer = checkpointer;
        _thread = new Thread(Run) { IsBackground = true, Name = "Relay SQLite writer" };
        _thread.Start();
    }

    public long Commits => Interlocked.Read(ref _commits);

    /// <summary>Operations committed (failed and cancelled ones not counted).</summary>
    public long Writes => Interlocked.Read(ref _writes);

    public Task<TResult> EnqueueAsync<TResult>(WriteOperation<TResult> operation)
    {
        if (operation.CancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<TResult>(operation.CancellationToken);
        }

        lock (_gate)
        {
            if (!_accepting)
            {
                throw new ObjectDisposedException(nameof(GroupCommitWriter), "The SQLite storage has been shut down.");
            }

            _queued.Add(operation);
            if (_sleeping)
            {
                Monitor.Pulse(_gate);
            }
        }

        return operation.Completion;
    }

    private void Run()
    {
        try
        {
            RunBatches();
        }
        finally
        {
            _stopped.TrySetResult();
        }
    }

    private void RunBatches()
    {
        // Two lists swapped with the queue: the writer runs one while callers fill the other.
        var batch = new List<WriteOperation>(MaxBatch);
        while (TakeQueued(ref batch))
        {
            try
            {
                ExecuteBatch(batch);
            }
            catch (Exception exception)
            {
                // A defect of the writer itself: fail what is left of the batch, but keep the loop alive,
                // or every later write would wait forever.
                Log.WriterFault(_logger, exception);
                foreach (var operation in batch)
                {
                    operation.Fail(exception);
                }
            }

            batch.Clear();
        }
    }

    /// <summary>
    /// Blocks the writer's own thread until a write is queued, then takes the queue into <paramref name="batch"/>
    /// (empty): the whole list in exchange when it holds at most <see cref="MaxBatch"/>, else its first
    /// <see cref="MaxBatch"/>. False once the writer is disposed and nothing is left.
    /// </summary>
    private bool TakeQueued(ref List<WriteOperation> batch)
    {
        lock (_gate)
        {
            while (_queued.Count == 0)
            {
                if (!_accepting)
                {
                    return false;
                }

                _sleeping = true;
                Monitor.Wait(_gate);
                _sleeping = false;
            }

            if (_queued.Count <= MaxBatch)
            {
                (batch, _queued) = (_queued, batch);
            }
            else
            {
                batch.AddRange(CollectionsMarshal.AsSpan(_queued)[..MaxBatch]);
                _queued.RemoveRange(0, MaxBatch);
            }

            return true;
        }
    }

    private void ExecuteBatch(List<WriteOperation> batch)
    {
        var executed = new List<WriteOperation>(batch.Count);
        var next = 0;
        var started = Stopwatch.GetTimestamp();
        try
        {
            _session.Begin();
            for (; next < batch.Count; next++)
            {
                var operation = batch[next];
                if (operation.CancellationToken.IsCancellationRequested)
                {
                    operation.Cancel();
                    continue;
                }

                _session.Savepoint();
                try
                {
                    operation.Execute(_session);
                    _session.ReleaseSavepoint();
                    executed.Add(operation);
                }
                catch (Exception exception) when (TransactionSurvived())
                {
                    // An ETag conflict or a statement SQLite refused: undo this operation only.
                    _session.RollbackToSavepoint();
                    operation.Fail(exception);
                    if (exception is SqliteException sqlite)
                    {
                        // The caller gets the exception (and Orleans logs it with the grain): a trace suffices here.
                        Log.WriteRefused(_logger, operation.Describe(), sqlite.SqliteErrorCode, sqlite);
                    }
                }
            }

            _session.Commit();
        }
        catch (Exception exception)
        {
            // The transaction itself failed (disk full, I/O error, ...): nothing of the batch is stored.
            _session.Rollback();
            Log.BatchFailed(_logger, batch.Count, exception);
            foreach (var operation in executed)
            {
                operation.Fail(exception);
            }

            for (; next < batch.Count; next++)
            {
                batch[next].Fail(exception);
            }

            return;
        }

        RelayStorageMetrics.Committed(RelayStorageMetrics.Sqlite, Stopwatch.GetElapsedTime(started), executed.Count);
        Interlocked.Increment(ref _commits);
        Interlocked.Add(ref _writes, executed.Count);
        _checkpointer?.Committed();
        foreach (var operation in executed)
        {
            operation.Complete();
        }

        if (_checkpointer is { FoldDue: true })
        {
            _checkpointer.FoldOnWriter(_connection);
        }
    }

    /// <summary>
    /// Whether the batch transaction is still open after a failed statement. SQLite rolls back the whole
    /// transaction on some errors (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM); then the batch as a whole fails.
    /// </summary>
    private bool TransactionSurvived() => SQLitePCL.raw.sqlite3_get_autocommit(_connection.Handle) == 0;

    /// <summary>Stops taking writes, finishes every write already queued, then returns.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            _accepting = false;
            Monitor.Pulse(_gate);
        }

        await _stopped.Task.ConfigureAwait(false);
        _session.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "SQLite refused the write of {Target} (error {ErrorCode}); the other writes of its batch go on")]
        public static partial void WriteRefused(ILogger logger, string target, int errorCode, Exception exception);

        [LoggerMessage(EventId = 2, Level = LogLevel.Error, Message = "A batch of {Count} writes could not be committed to SQLite; every write of it failed")]
        public static partial void BatchFailed(ILogger logger, int count, Exception exception);

        [LoggerMessage(EventId = 3, Level = LogLevel.Critical, Message = "The SQLite writer failed outside of a transaction; the writes of the batch failed")]
        public static partial void WriterFault(ILogger logger, Exception exception);
    }
}
