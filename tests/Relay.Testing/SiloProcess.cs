using System.Diagnostics;
using System.Text;

namespace Relay.Testing;

/// <summary>
/// The real silo as a separate process (<c>dotnet Relay.Silo.dll</c>), for what needs a real process:
/// kill -9, restarts on the same data, start-up failures.
/// </summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private SiloProcess(Process process, string url)
    {
        _process = process;
        Url = url;
        Client = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(30) };
    }

    public string Url { get; }

    public HttpClient Client { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Where Relay.Silo.dll is: beside the test assembly, which references it.</summary>
    public static string SiloAssembly => Path.Combine(AppContext.BaseDirectory, "Relay.Silo.dll");

    /// <summary>Starts the silo with command-line configuration, and (unless told not to) waits for /health.</summary>
    public static async Task<SiloProcess> StartAsync(string workingDirectory, IEnumerable<string> args, bool waitUntilHealthy = true, int? httpPort = null)
    {
        Directory.CreateDirectory(workingDirectory);
        var port = httpPort ?? Ports.Free();
        var url = $"http://127.0.0.1:{port}";
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(SiloAssembly);
        info.ArgumentList.Add($"--urls={url}");
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["DOTNET_ENVIRONMENT"] = "Test";
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Test";
        var process = new Process { StartInfo = info };
        var silo = new SiloProcess(process, url);
        process.OutputDataReceived += (_, e) => silo.Append(e.Data);
        process.ErrorDataReceived += (_, e) => silo.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (waitUntilHealthy)
        {
            await silo.WaitUntilHealthyAsync();
        }

        return silo;
    }

    public async Task WaitUntilHealthyAsync(TimeSpan? timeout = null)
    {
        await Eventually.Until(async () =>
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The silo exited with {_process.ExitCode}:\n{Output}");
            }

            try
            {
                using var response = await Client.GetAsync("/health");
                return response.IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, ok => ok, timeout ?? TimeSpan.FromSeconds(60), $"silo at {Url} healthy");
    }

    /// <summary>kill -9: no shutdown, no flush, nothing.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await KillAsync();
        _process.Dispose();
    }
}
