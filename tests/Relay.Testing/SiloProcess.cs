using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;

namespace Relay.Testing;

/// <summary>
/// The real silo as a separate process (<c>dotnet Relay.Silo.dll</c>, copied next to the test assembly), for
/// what needs a real process: kill -9, restarts on the same data, start-up failures. It starts in a working
/// folder with free ports and its data in <c>data/</c> there; arguments given later override those.
/// </summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private static readonly string ScratchRoot = Path.Combine(Path.GetTempPath(), "relay-silo-process");

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly ConcurrentQueue<string> _stderr = new();

    private SiloProcess(Process process, string workingDirectory, int httpPort)
    {
        _process = process;
        WorkingDirectory = workingDirectory;
        Url = $"http://127.0.0.1:{httpPort}";
        Client = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromSeconds(30) };
    }

    public string WorkingDirectory { get; }

    public string Url { get; }

    public HttpClient Client { get; }

    public string StandardError => string.Join(Environment.NewLine, _stderr);

    public string StandardOutput => string.Join(Environment.NewLine, _stdout);

    /// <summary>A fresh working folder, removed when the process is disposed; write files into it before <see cref="Start"/>.</summary>
    public static string NewWorkingDirectory()
    {
        var path = Path.Combine(ScratchRoot, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    public static SiloProcess Start(string workingDirectory, params string[] args)
    {
        var silo = Path.Combine(AppContext.BaseDirectory, "Relay.Silo.dll");
        if (!File.Exists(silo))
        {
            throw new FileNotFoundException("Relay.Silo.dll is not next to the test assembly.", silo);
        }

        Directory.CreateDirectory(workingDirectory);
        var httpPort = Ports.Free();
        var start = new ProcessStartInfo(DotnetHost())
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(silo);
        foreach (var arg in new[]
                 {
                     $"--urls=http://127.0.0.1:{httpPort}",
                     $"--Relay:Cluster:SiloPort={Ports.Free()}",
                     $"--Relay:Cluster:GatewayPort={Ports.Free()}",
                     $"--Relay:Storage:DataPath={Path.Combine(workingDirectory, "data")}",
                 }.Concat(args))
        {
            start.ArgumentList.Add(arg);
        }

        // Only what the test passes configures the silo.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("Relay__", StringComparison.OrdinalIgnoreCase)
                     || k.StartsWith("ASPNETCORE_", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(key);
        }

        var process = new Process { StartInfo = start };
        var result = new SiloProcess(process, workingDirectory, httpPort);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) result._stdout.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) result._stderr.Enqueue(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return result;
    }

    /// <summary>Starts the silo and waits until its <c>/health</c> answers 200.</summary>
    public static async Task<SiloProcess> StartAsync(string workingDirectory, IEnumerable<string> args)
    {
        var silo = Start(workingDirectory, args.ToArray());
        int? exitCode;
        try
        {
            exitCode = await silo.ExitCodeOrReadyAsync();
        }
        catch (TimeoutException ex)
        {
            // Never ready: stop it (dispose kills it), or it outlives the test run and loads the machine for every test after it.
            var output = silo.ToString();
            await silo.DisposeAsync();
            throw new TimeoutException($"{ex.Message}{Environment.NewLine}{output}", ex);
        }

        if (exitCode is not null)
        {
            var output = silo.ToString();
            await silo.DisposeAsync();
            throw new InvalidOperationException($"The silo exited with {exitCode}.{Environment.NewLine}{output}");
        }

        return silo;
    }

    /// <summary>Waits until the process has exited (its exit code) or its <c>/health</c> answers 200 (null).</summary>
    public async Task<int?> ExitCodeOrReadyAsync(TimeSpan? timeout = null)
    {
        var outcome = await Eventually.Until(ProbeAsync, o => o != Outcome.Starting, timeout ?? TimeSpan.FromSeconds(60), "the silo process exits or is ready");
        if (outcome == Outcome.Ready)
        {
            return null;
        }

        // Exited: wait for the end of its output too.
        await _process.WaitForExitAsync();
        return _process.ExitCode;
    }

    public async Task<HttpResponseMessage> GetAsync(string path) => await Client.GetAsync(path);

    /// <summary>kill -9: no shutdown, no flush, nothing.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(deadline.Token);
    }

    private async Task<Outcome> ProbeAsync()
    {
        if (_process.HasExited)
        {
            return Outcome.Exited;
        }

        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            using var response = await Client.GetAsync("/health", cts.Token);
            return response.StatusCode == HttpStatusCode.OK ? Outcome.Ready : Outcome.Starting;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return Outcome.Starting;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        try
        {
            await KillAsync();
        }
        finally
        {
            _process.Dispose();
        }

        if (WorkingDirectory.StartsWith(ScratchRoot, StringComparison.Ordinal))
        {
            try
            {
                Directory.Delete(WorkingDirectory, recursive: true);
            }
            catch (IOException)
            {
                // Left to the OS's temp cleaning.
            }
        }
    }

    public override string ToString() => $"stderr:{Environment.NewLine}{StandardError}{Environment.NewLine}stdout (end):{Environment.NewLine}{string.Join(Environment.NewLine, _stdout.TakeLast(20))}";

    private static string DotnetHost()
    {
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(host) && File.Exists(host))
        {
            return host;
        }

        var current = Environment.ProcessPath;
        return current is not null && Path.GetFileNameWithoutExtension(current) == "dotnet" ? current : "dotnet";
    }

    private enum Outcome
    {
        Starting,
        Ready,
        Exited,
    }
}
