using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Relay.Testing;

/// <summary>
/// A real, private PostgreSQL server for tests: its own data folder under the temp folder, listening on a free
/// port of 127.0.0.1 only, trusting every local connection. Started, stopped and initialized by the repository's
/// one PostgreSQL starter, <c>scripts/postgres.sh</c> (copied next to the tests), from the server binaries installed
/// on the machine (the newest under <c>/usr/lib/postgresql/*/bin</c>, or <c>RELAY_PG_BIN</c>); as root, the server
/// runs as the <c>postgres</c> user, since PostgreSQL refuses to run as root.
/// </summary>
/// <remarks>
/// Suites that only need a database use <see cref="Shared"/> (one server per test process) and a database of their
/// own from <see cref="CreateDatabaseAsync"/>; a test that stops or restarts the server starts one of its own.
/// Databases use an ICU collation (en-US) when the server has ICU, so a query that relies on the database's
/// default ordering instead of an explicit one shows up in tests.
/// </remarks>
public sealed partial class PostgresServer : IAsyncDisposable, IDisposable
{
    private const string ServiceUser = "postgres";
    private const string FolderPrefix = "relay-pg-";
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(2);
    private static readonly Lazy<Task<PostgresServer>> SharedServer = new(StartSharedAsync);

    private static readonly string Starter = Path.Combine(AppContext.BaseDirectory, "postgres.sh");

    private readonly string _bin;
    private bool _icu;
    private int _disposed;

    private PostgresServer(string folder, string bin, int port)
    {
        Folder = folder;
        _bin = bin;
        Port = port;
    }

    /// <summary>The server of this test process, started at first use and stopped when the process exits.</summary>
    public static Task<PostgresServer> Shared => SharedServer.Value;

    /// <summary>The folder that holds the data directory, the socket folder and the server log; deleted at dispose.</summary>
    public string Folder { get; }

    public string DataDirectory => Path.Combine(Folder, "data");

    public string LogFile => Path.Combine(Folder, "server.log");

    public int Port { get; }

    public bool IsRunning { get; private set; }

    /// <summary>Initializes a new cluster in a temporary folder and starts it.</summary>
    public static async Task<PostgresServer> StartNewAsync()
    {
        var bin = (await StarterAsync("bin")).Trim();
        await DeleteLeftoversAsync();
        var server = new PostgresServer(TempFolder.Create(FolderPrefix), bin, Ports.Free());
        try
        {
            await server.StartAsync();
            server._icu = await server.HasIcuAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>A connection string (Npgsql syntax) for <paramref name="database"/> on this server.</summary>
    public string ConnectionString(string database) =>
        string.Create(CultureInfo.InvariantCulture, $"Host=127.0.0.1;Port={Port};Username={ServiceUser};Database={database}");

    /// <summary>Creates an empty database and answers its connection string.</summary>
    /// <param name="name">Lower-case letters, digits and underscores; null for a fresh unique name.</param>
    public async Task<string> CreateDatabaseAsync(string? name = null)
    {
        name ??= "relay_" + Guid.NewGuid().ToString("N");
        if (!DatabaseName().IsMatch(name))
        {
            throw new ArgumentException($"'{name}' is not a database name these tests use (a-z, 0-9, _; at most 63).", nameof(name));
        }

        var collation = _icu ? " LOCALE_PROVIDER icu ICU_LOCALE 'en-US'" : "";
        await PsqlAsync($"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'{collation}");
        return ConnectionString(name);
    }

    /// <summary>Runs SQL through psql against <paramref name="database"/> and answers its unaligned output.</summary>
    public Task<string> PsqlAsync(string sql, string database = "postgres") =>
        TestProcess.RunCheckedAsync(
            Path.Combine(_bin, "psql"),
            ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture), "-U", ServiceUser, "-d", database, "-c", sql],
            CommandTimeout,
            environment: English);

    /// <summary>
    /// Starts the server (again) on the same port and waits until it accepts connections; the first start
    /// initializes the cluster (without fsync at initdb: a test cluster need not survive a power cut).
    /// </summary>
    public async Task StartAsync()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        try
        {
            await StarterAsync(
                "start", "--data", DataDirectory, "--port", Port.ToString(CultureInfo.InvariantCulture), "--log", LogFile,
                "--socket", Path.Combine(Folder, "socket"), "--no-sync",
                "--", "-c", "fsync=on", "-c", "shared_buffers=32MB", "-c", "max_connections=400", "-c", "max_prepared_transactions=0");
        }
        catch (Exception exception) when (exception is InvalidOperationException or TimeoutException)
        {
            throw new InvalidOperationException($"PostgreSQL did not start; its log says:{Environment.NewLine}{ReadLogTail()}", exception);
        }

        IsRunning = true;
    }

    /// <summary>
    /// Stops the server: <paramref name="immediate"/> as after a crash (no checkpoint; the next start recovers from
    /// the WAL), else a fast shutdown (sessions cut, a clean checkpoint).
    /// </summary>
    public async Task StopAsync(bool immediate = false)
    {
        await StarterAsync(immediate ? ["stop", "--data", DataDirectory, "--immediate"] : ["stop", "--data", DataDirectory]);
        IsRunning = false;
    }

    private async Task<bool> HasIcuAsync()
    {
        var answer = await PsqlAsync("SELECT count(*) FROM pg_collation WHERE collprovider = 'i'");
        return int.TryParse(answer.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count > 0;
    }

    /// <summary>Runs scripts/postgres.sh; RELAY_PG_BIN is its PG_BIN.</summary>
    private static Task<string> StarterAsync(params string[] arguments) =>
        TestProcess.RunCheckedAsync(
            "bash",
            [Starter, .. arguments],
            CommandTimeout,
            environment: new Dictionary<string, string?>(English) { ["PG_BIN"] = Environment.GetEnvironmentVariable("RELAY_PG_BIN") });

    /// <summary>The server's own messages in English.</summary>
    private static IReadOnlyDictionary<string, string?> English { get; } = new Dictionary<string, string?> { ["LC_ALL"] = "C" };

    private string ReadLogTail()
    {
        try
        {
            var lines = File.ReadAllLines(LogFile);
            return string.Join(Environment.NewLine, lines.TakeLast(30));
        }
        catch (IOException)
        {
            return "(no log)";
        }
        catch (UnauthorizedAccessException)
        {
            return "(log not readable)";
        }
    }

    private static async Task<PostgresServer> StartSharedAsync()
    {
        var server = await StartNewAsync();
        // The server must not outlive the test process. The test runner ends that process moments after the last
        // test, too soon to wait for a shutdown, so the stop and the clean-up run on in a process of their own.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.StopAndDeleteDetached();
        return server;
    }

    private void StopAndDeleteDetached()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Not through TestProcess, which kills what it started when the test process exits: this one must outlive it.
        var start = new ProcessStartInfo("setsid")
        {
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        foreach (var argument in (string[])["/bin/sh", "-c", $"bash '{Starter}' stop --data '{DataDirectory}' --immediate >/dev/null 2>&1; rm -rf '{Folder}'"])
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            using var process = Process.Start(start);
        }
        catch (Exception exception) when (exception is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            // No setsid: stop here and now, as far as the time left allows.
            Volatile.Write(ref _disposed, 0);
            Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await StopAsync(immediate: true);
        }
        catch (Exception exception) when (exception is InvalidOperationException or TimeoutException)
        {
            // Already stopped (a test stopped it) or gone: nothing left to stop.
        }

        IsRunning = false;
        await DeleteFolderAsync(Folder);
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>
    /// Removes the folders of servers that are gone: a test process may end (or be ended) before its shared server's
    /// folder is deleted. A folder is left alone while its server runs, and for a while after it was made.
    /// </summary>
    private static async Task DeleteLeftoversAsync()
    {
        foreach (var folder in Directory.GetDirectories(Path.GetTempPath(), FolderPrefix + "*"))
        {
            if (Directory.GetLastWriteTimeUtc(folder) > TimeProvider.System.GetUtcNow().UtcDateTime.AddMinutes(-10) || ServerRuns(Path.Combine(folder, "data")))
            {
                continue;
            }

            await DeleteFolderAsync(folder);
        }
    }

    private static bool ServerRuns(string dataDirectory)
    {
        try
        {
            var firstLine = File.ReadLines(Path.Combine(dataDirectory, "postmaster.pid")).FirstOrDefault();
            if (!int.TryParse(firstLine, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                return false;
            }

            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
        {
            // No pid file (stopped cleanly, or never started), or no such process.
            return exception is UnauthorizedAccessException;
        }
    }

    private static async Task DeleteFolderAsync(string folder)
    {
        // The server's last processes may still be leaving files behind for a moment after pg_ctl returns.
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                Directory.Delete(folder, recursive: true);
                return;
            }
            catch (DirectoryNotFoundException)
            {
                return;
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                if (deadline.Elapsed > TimeSpan.FromSeconds(10))
                {
                    // A leftover in the temp folder is no reason to fail a test run.
                    return;
                }

                // Retry with a deadline: the files go when the server's processes have finished exiting.
                await Task.Delay(TimeSpan.FromMilliseconds(50));
            }
        }
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex DatabaseName();
}
