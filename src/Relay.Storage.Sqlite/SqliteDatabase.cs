using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Relay.Storage.Sqlite.Schema;
using Relay.Storage.Sqlite.Writing;

namespace Relay.Storage.Sqlite;

/// <summary>
/// The embedded database: one SQLite file in WAL mode, written by a single group-commit writer and read
/// through pooled connections beside it. One per process, shared by the grain storage, the reminder table
/// and the <see cref="Relay.Core.Storage.IRelayStore"/>.
/// </summary>
public sealed partial class SqliteDatabase : IAsyncDisposable, IDisposable
{
    /// <summary>The name of the database file inside the data folder.</summary>
    public const string FileName = "relay.db";

    private readonly string _readConnectionString;
    private readonly SqliteConnection _writeConnection;
    private readonly GroupCommitWriter _writer;
    private readonly WalCheckpointer _checkpointer;
    private readonly ILogger _logger;
    private int _disposed;

    private SqliteDatabase(string path, string readConnectionString, SqliteConnection writeConnection, GroupCommitWriter writer,
        WalCheckpointer checkpointer, ILogger logger)
    {
        DatabasePath = path;
        _readConnectionString = readConnectionString;
        ReadSessions = new ReadSessions(readConnectionString);
        _writeConnection = writeConnection;
        _writer = writer;
        _checkpointer = checkpointer;
        _logger = logger;
    }

    /// <summary>Full path of the database file.</summary>
    public string DatabasePath { get; }

    /// <summary>Transactions committed since the database was opened: divide by delivered messages for commits per message.</summary>
    public long Commits => _writer.Commits;

    /// <summary>Writes (grain states, reminders, purges) committed since the database was opened.</summary>
    public long Writes => _writer.Writes;

    /// <summary>WAL checkpoints run since the database was opened (off the commit path: <see cref="WalCheckpointer"/>).</summary>
    public long Checkpoints => _checkpointer.Checkpoints;

    /// <summary>Times the WAL was folded whole so that it started over (once per 64 MiB of log under load: <see cref="WalCheckpointer"/>).</summary>
    public long WalRestarts => _checkpointer.Restarts;

    internal GroupCommitWriter Writer => _writer;

    /// <summary>Read connections with prepared statements, for the reads every message makes.</summary>
    internal ReadSessions ReadSessions { get; }

    /// <summary>Opens (creating when missing) the database in <paramref name="dataPath"/> and starts its writer.</summary>
    internal static SqliteDatabase Open(string dataPath, SqliteSynchronousMode synchronous, TimeProvider timeProvider, ILoggerFactory loggerFactory,
        int walRestartPages = WalCheckpointer.DefaultRestartPages)
    {
        var folder = Path.GetFullPath(dataPath);
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, FileName);
        var logger = loggerFactory.CreateLogger<SqliteDatabase>();

        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            // Microsoft.Data.Sqlite retries a busy database for up to this long before it gives up.
            DefaultTimeout = 30,
            Pooling = false,
        };
        var writeConnection = new SqliteConnection(builder.ToString());
        WalCheckpointer? checkpointer = null;
        try
        {
            writeConnection.Open();
            // temp_store: each write of a batch runs in a savepoint, whose journal (the first image of every page it
            // changes) SQLite would spill to a temporary file past 64 KiB; in memory it costs no system call, and it is
            // dropped when the savepoint is released (issue 14: the kernel's copy of those pages was on a fifth of
            // the silo's samples, six times the log's pages).
            Execute(writeConnection, $"""
                PRAGMA journal_mode = WAL;
                PRAGMA synchronous = {synchronous.ToPragmaValue()};
                PRAGMA busy_timeout = 30000;
                PRAGMA foreign_keys = OFF;
                PRAGMA wal_autocheckpoint = 0;
                PRAGMA journal_size_limit = {(long)walRestartPages * WalCheckpointer.PageBytes};
                PRAGMA temp_store = MEMORY;
                """);
            SqliteSchema.Apply(writeConnection, timeProvider.GetUtcNow());
            var lastVersion = ReadLastVersion(writeConnection);

            builder.Mode = SqliteOpenMode.ReadWrite;
            checkpointer = new WalCheckpointer(builder.ToString(), timeProvider, loggerFactory.CreateLogger<WalCheckpointer>(), walRestartPages);
            builder.Pooling = true;
            var writer = new GroupCommitWriter(writeConnection, lastVersion, loggerFactory.CreateLogger<GroupCommitWriter>(), checkpointer);
            Log.Opened(logger, path, synchronous.ToPragmaValue());
            return new SqliteDatabase(path, builder.ToString(), writeConnection, writer, checkpointer, logger);
        }
        catch
        {
            checkpointer?.Dispose();
            writeConnection.Dispose();
            throw;
        }
    }

    /// <summary>A pooled connection for reading; WAL lets it read beside the writer, as of its own snapshot.</summary>
    internal async Task<SqliteConnection> OpenReadConnectionAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var connection = new SqliteConnection(_readConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static long ReadLastVersion(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT MAX(
                (SELECT value FROM counters WHERE name = 'etag'),
                COALESCE((SELECT MAX(version) FROM grain_state), 0),
                COALESCE((SELECT MAX(version) FROM reminders), 0))
            """;
        return (long)command.ExecuteScalar()!;
    }

    /// <summary>Finishes every queued write, then closes the file.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _writer.DisposeAsync().ConfigureAwait(false);
        _checkpointer.Dispose();
        try
        {
            // Fold the WAL back into the database file, so the file alone is a complete copy.
            Execute(_writeConnection, "PRAGMA wal_checkpoint(TRUNCATE)");
        }
        catch (SqliteException exception)
        {
            Log.CheckpointFailed(_logger, exception);
        }

        await _writeConnection.DisposeAsync().ConfigureAwait(false);
        ReadSessions.Dispose();
        using (var pooled = new SqliteConnection(_readConnectionString))
        {
            // Pooled read connections hold the file open; release them so the folder can be moved or deleted.
            SqliteConnection.ClearPool(pooled);
        }

        Log.Closed(_logger, DatabasePath, Commits);
    }

    /// <summary>For containers disposed synchronously; prefer <see cref="DisposeAsync"/>.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private static partial class Log
    {
        [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "SQLite storage opened at {Path} (synchronous={Synchronous})")]
        public static partial void Opened(ILogger logger, string path, string synchronous);

        [LoggerMessage(EventId = 11, Level = LogLevel.Information, Message = "SQLite storage at {Path} closed after {Commits} commits")]
        public static partial void Closed(ILogger logger, string path, long commits);

        [LoggerMessage(EventId = 12, Level = LogLevel.Warning, Message = "The WAL checkpoint at shutdown failed; the WAL file is applied at the next start")]
        public static partial void CheckpointFailed(ILogger logger, Exception exception);
    }
}
