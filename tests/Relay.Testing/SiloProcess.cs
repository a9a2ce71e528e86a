using System.Net;

namespace Relay.Testing;

/// <summary>
/// The real silo as a separate process (<c>dotnet Relay.Silo.dll</c>, copied next to the test assembly), for
/// what needs a real process: kill -9, restarts on the same data, start-up failures. It starts in a working
/// folder with free ports and its data in <c>data/</c> there; arguments given later override those.
/// </summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private const string ScratchPrefix = "relay-silo-";

    private readonly TestProcess _process;

    private SiloProcess(TestProcess process, string workingDirectory, int httpPort)
    {
        _process = process;
        WorkingDirectory = workingDirectory;
        Url = $"http://127.0.0.1:{httpPort}";
        Client = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromSeconds(30) };
    }

    public string WorkingDirectory { get; }

    public string Url { get; }

    public HttpClient Client { get; }

    public string StandardError => _process.StandardError;

    public string StandardOutput => _process.StandardOutput;

    /// <summary>A fresh working folder, removed when the process is disposed; write files into it before <see cref="Start"/>.</summary>
    public static string NewWorkingDirectory() => TempFolder.Create(ScratchPrefix);

    public static SiloProcess Start(string workingDirectory, params string[] args)
    {
        var silo = Path.Combine(AppContext.BaseDirectory, "Relay.Silo.dll");
        if (!File.Exists(silo))
        {
            throw new FileNotFoundException("Relay.Silo.dll is not next to the test assembly.", silo);
        }

        Directory.CreateDirectory(workingDirectory);
        var httpPort = Ports.Free();
        string[] arguments =
        [
            silo,
            $"--urls=http://127.0.0.1:{httpPort}",
            $"--Relay:Cluster:SiloPort={Ports.Free()}",
            $"--Relay:Cluster:GatewayPort={Ports.Free()}",
            $"--Relay:Storage:DataPath={Path.Combine(workingDirectory, "data")}",
            .. args,
        ];

        // Only what the test passes configures the silo.
        var environment = Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Where(k => k.StartsWith("Relay__", StringComparison.OrdinalIgnoreCase) || k.StartsWith("ASPNETCORE_", StringComparison.OrdinalIgnoreCase))
            .ToDictionary(k => k, string? (_) => null);
        var process = TestProcess.Start(DotnetHost(), arguments, workingDirectory, environment, "the silo");
        return new SiloProcess(process, workingDirectory, httpPort);
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
    public Task KillAsync() => _process.KillAsync();

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
        await _process.DisposeAsync();
        if (Path.GetFileName(WorkingDirectory).StartsWith(ScratchPrefix, StringComparison.Ordinal))
        {
            TempFolder.Delete(WorkingDirectory);
        }
    }

    public override string ToString() => _process.ToString();

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
