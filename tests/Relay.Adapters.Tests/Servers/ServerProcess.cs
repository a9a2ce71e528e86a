using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Relay.Testing;

namespace Relay.Adapters.Tests.Servers;

/// <summary>
/// One real server process on a port of 127.0.0.1, which a test can stop and start again on the same port (to
/// see a delivery retried across a server restart). Killed at dispose, and at the latest when the test process exits.
/// </summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private static readonly ConcurrentDictionary<ServerProcess, byte> Running = new();
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);

    private readonly string _program;
    private readonly IReadOnlyList<string> _arguments;
    private readonly string _hint;
    private readonly ConcurrentQueue<string> _output = new();
    private Process? _process;

    static ServerProcess()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var server in Running.Keys)
            {
                server.Kill();
            }
        };
    }

    /// <param name="hint">What to install when the program is missing or fails at once.</param>
    public ServerProcess(string name, string program, IReadOnlyList<string> arguments, int port, string hint)
    {
        Name = name;
        _program = program;
        _arguments = arguments;
        Port = port;
        _hint = hint;
    }

    public string Name { get; }

    public int Port { get; }

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>The last lines the process wrote, for a failure's message.</summary>
    public string Output => string.Join(Environment.NewLine, _output);

    /// <summary>Starts the process and waits until its port accepts connections.</summary>
    public async Task StartAsync()
    {
        if (IsRunning)
        {
            return;
        }

        if (!File.Exists(_program))
        {
            throw new InvalidOperationException($"{_program} is missing: {_hint}");
        }

        var start = new ProcessStartInfo(_program)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        foreach (var argument in _arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"{Name} did not start.");
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        Running[this] = 0;
        await Eventually.Until(
            async () =>
            {
                if (process.HasExited)
                {
                    throw new InvalidOperationException($"{Name} ended at start (exit code {process.ExitCode}): {_hint}{Environment.NewLine}{Output}");
                }

                return await AcceptsAsync();
            },
            accepts => accepts,
            StartTimeout,
            $"{Name} listening on 127.0.0.1:{Port}");
    }

    /// <summary>Kills the process (as a crash would) and waits until its port refuses connections.</summary>
    public async Task StopAsync()
    {
        if (_process is null)
        {
            return;
        }

        Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
        _process = null;
        Running.TryRemove(this, out _);
        await Eventually.Until(async () => !await AcceptsAsync(), accepts => accepts, StartTimeout, $"{Name} stopped");
    }

    private void Kill()
    {
        try
        {
            _process?.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Exited already.
        }
    }

    private async Task<bool> AcceptsAsync()
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, Port).WaitAsync(TimeSpan.FromSeconds(1));
            return true;
        }
        catch (Exception ex) when (ex is SocketException or TimeoutException)
        {
            return false;
        }
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue(line);
        while (_output.Count > 100)
        {
            _output.TryDequeue(out _);
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
