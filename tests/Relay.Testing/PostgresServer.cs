using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Relay.Testing;

/// <summary>
/// A real, private PostgreSQL server for tests: its own data folder under the temp folder, listening on a free
/// port of 127.0.0.1 only, trusting every local connection. Started from the server binaries installed on the
/// machine (the newest under <c>/usr/lib/postgresql/*/bin</c>, or <c>RELAY_PG_BIN</c>); as root, the server
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

    private readonly string _bin;
    private readonly bool _asServiceUser;
    private bool _icu;
    private int _disposed;

    private PostgresServer(string folder, string bin, bool asServiceUser, int port)
    {
        Folder = folder;
        _bin = bin;
        _asServiceUser = asServiceUser;
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
        var bin = FindBinaries();
        var asServiceUser = Environment.UserName == "root";
        await DeleteLeftoversAsync();
        var folder = Path.Combine(Path.GetTempPath(), FolderPrefix + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(folder);
        Directory.CreateDirectory(Path.Combine(folder, "socket"));
        PostgresServer? server = null;
        try
        {
            if (asServiceUser)
            {
                await RunAsync("chown", ["-R", $"{ServiceUser}:{ServiceUser}", folder], asUser: null);
            }

            var data = Path.Combine(folder, "data");
            string[] initdb = ["-D", data, "-U", ServiceUser, "-E", "UTF8", "--locale=C", "--auth=trust", "--no-sync", "--no-instructions"];
            await RunAsync(Path.Combine(bin, "initdb"), initdb, asServiceUser ? ServiceUser : null);

            // Only the loopback address, only trust: the server is reachable from this machine alone.
            await File.WriteAllTextAsync(Path.Combine(data, "pg_hba.conf"), """
                local all all trust
                host  all all 127.0.0.1/32 trust
                """);
            if (asServiceUser)
            {
                await RunAsync("chown", [$"{ServiceUser}:{ServiceUser}", Path.Combine(data, "pg_hba.conf")], asUser: null);
            }

            server = new PostgresServer(folder, bin, asServiceUser, Ports.Free());
            await server.StartAsync();
            server._icu = await server.HasIcuAsync();
            return server;
        }
        catch
        {
            if (server is not null)
            {
                await server.DisposeAsync();
            }
            else
            {
                await DeleteFolderAsync(folder);
            }

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
        RunAsync(
            Path.Combine(_bin, "psql"),
            ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture), "-U", ServiceUser, "-d", database, "-c", sql],
            asUser: null);

    /// <summary>Starts the server (again) on the same port and waits until it accepts connections.</summary>
    public async Task StartAsync()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var options = string.Join(' ',
            "-p", Port.ToString(CultureInfo.InvariantCulture),
            "-k", Path.Combine(Folder, "socket"),
            "-c", "listen_addresses=127.0.0.1",
            "-c", "fsync=on",
            "-c", "shared_buffers=32MB",
            "-c", "max_connections=400",
            "-c", "max_prepared_transactions=0");
        try
        {
            await PgCtlAsync("start", "-w", "-t", "60", "-l", LogFile, "-o", options);
        }
        catch (Exception exception) when (exception is InvalidOperationException or TimeoutException)
        {
            throw new InvalidOperationException($"PostgreSQL did not start; its log says:{Environment.NewLine}{ReadLogTail()}", exception);
        }

        await WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
        IsRunning = true;
    }

    /// <summary>
    /// Stops the server: <paramref name="immediate"/> as after a crash (no checkpoint; the next start recovers from
    /// the WAL), else a fast shutdown (sessions cut, a clean checkpoint).
    /// </summary>
    public async Task StopAsync(bool immediate = false)
    {
        await PgCtlAsync("stop", "-w", "-t", "60", "-m", immediate ? "immediate" : "fast");
        IsRunning = false;
    }

    private async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await RunAsync(
                    Path.Combine(_bin, "pg_isready"),
                    ["-h", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture), "-U", ServiceUser, "-d", "postgres", "-t", "5"],
                    asUser: null);
                return;
            }
            catch (InvalidOperationException) when (deadline.Elapsed < timeout)
            {
                await Task.Delay(50);
            }
        }
    }

    private async Task<bool> HasIcuAsync()
    {
        var answer = await PsqlAsync("SELECT count(*) FROM pg_collation WHERE collprovider = 'i'");
        return int.TryParse(answer.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count > 0;
    }

    private Task<string> PgCtlAsync(params string[] arguments) =>
        RunAsync(Path.Combine(_bin, "pg_ctl"), ["-D", DataDirectory, .. arguments], _asServiceUser ? ServiceUser : null);

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

        var pgCtl = Path.Combine(_bin, "pg_ctl");
        var stop = _asServiceUser ? $"runuser -u {ServiceUser} -- '{pgCtl}'" : $"'{pgCtl}'";
        var start = new ProcessStartInfo("setsid")
        {
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        foreach (var argument in (string[])["/bin/sh", "-c", $"{stop} -D '{DataDirectory}' stop -m immediate -w -t 30 >/dev/null 2>&1; rm -rf '{Folder}'"])
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

    private static string FindBinaries()
    {
        var configured = Environment.GetEnvironmentVariable("RELAY_PG_BIN");
        if (!string.IsNullOrEmpty(configured))
        {
            return File.Exists(Path.Combine(configured, "postgres"))
                ? configured
                : throw new InvalidOperationException($"RELAY_PG_BIN is '{configured}', which has no 'postgres' binary.");
        }

        const string root = "/usr/lib/postgresql";
        var newest = Directory.Exists(root)
            ? Directory.GetDirectories(root)
                .Select(dir => (Dir: dir, Version: double.TryParse(Path.GetFileName(dir), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : -1))
                .Where(x => x.Version >= 0 && File.Exists(Path.Combine(x.Dir, "bin", "postgres")))
                .OrderByDescending(x => x.Version)
                .Select(x => Path.Combine(x.Dir, "bin"))
                .FirstOrDefault()
            : null;
        return newest ?? throw new InvalidOperationException(
            $"No PostgreSQL server binaries under {root}/*/bin: install them (Debian: apt-get install postgresql) or set RELAY_PG_BIN.");
    }

    /// <summary>Runs a program to its end (bounded by <see cref="CommandTimeout"/>); throws with its output when it fails.</summary>
    private static async Task<string> RunAsync(string program, IReadOnlyList<string> arguments, string? asUser)
    {
        var start = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            // The server's own messages in English and its paths relative to nothing of ours.
            WorkingDirectory = Path.GetTempPath(),
        };
        start.Environment["LC_ALL"] = "C";
        if (asUser is null)
        {
            start.FileName = program;
        }
        else
        {
            start.FileName = "runuser";
            foreach (var argument in (string[])["-u", asUser, "--", program])
            {
                start.ArgumentList.Add(argument);
            }
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {program}.");
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(CommandTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Path.GetFileName(program)} did not finish within {CommandTimeout}.");
        }

        var text = await output;
        if (process.ExitCode != 0)
        {
            var message = new StringBuilder()
                .Append(Path.GetFileName(program)).Append(' ').Append(string.Join(' ', arguments))
                .Append(" exited with ").Append(process.ExitCode).AppendLine(":")
                .AppendLine(await error).Append(text);
            throw new InvalidOperationException(message.ToString());
        }

        return text;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            if (File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
            {
                await PgCtlAsync("stop", "-w", "-t", "30", "-m", "immediate");
            }
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
