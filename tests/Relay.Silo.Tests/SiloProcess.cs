using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Relay.Testing;

namespace Relay.Silo.Tests;

/// <summary>
/// The real <c>Relay.Silo</c> process (<c>dotnet Relay.Silo.dll</c>, copied next to this test assembly), started in a
/// temporary working folder with free ports and its data in that folder. Disposing kills it and removes the folder.
/// </summary>
internal sealed class SiloProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly HttpClient _client;

    private SiloProcess(Process process, string workingDirectory, int httpPort)
    {
        _process = process;
        WorkingDirectory = workingDirectory;
        _client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(5) };
    }

    public string WorkingDirectory { get; }

    public string StandardError => string.Join(Environment.NewLine, _stderr);

    public string StandardOutput => string.Join(Environment.NewLine, _stdout);

    /// <summary>A fresh working folder; write files into it before <see cref="Start"/>.</summary>
    public static string NewWorkingDirectory()
    {
        var path = Path.Combine(Path.GetTempPath(), "relay-silo-process", Guid.NewGuid().ToString("N"));
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

    public async Task<HttpResponseMessage> GetAsync(string path) => await _client.GetAsync(path);

    private async Task<Outcome> ProbeAsync()
    {
        if (_process.HasExited)
        {
            return Outcome.Exited;
        }

        try
        {
            using var response = await _client.GetAsync("/health");
            return response.StatusCode == HttpStatusCode.OK ? Outcome.Ready : Outcome.Starting;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return Outcome.Starting;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _process.WaitForExitAsync(deadline.Token);
        }
        finally
        {
            _process.Dispose();
        }

        try
        {
            Directory.Delete(WorkingDirectory, recursive: true);
        }
        catch (IOException)
        {
            // Left to the OS's temp cleaning.
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
