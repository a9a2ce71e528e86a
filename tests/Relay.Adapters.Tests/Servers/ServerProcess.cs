namespace Relay.Adapters.Tests.Servers;

/// <summary>
/// One real server process on a port of 127.0.0.1, which a test can stop and start again on the same port (to
/// see a delivery retried across a server restart). Started through <see cref="TestProcess"/>: killed at dispose,
/// and at the latest when the test process exits.
/// </summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);

    private readonly string _program;
    private readonly IReadOnlyList<string> _arguments;
    private readonly string _hint;
    private TestProcess? _process;

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

    /// <summary>What the process wrote, for a failure's message.</summary>
    public string Output => _process?.ToString() ?? "";

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

        if (_process is not null)
        {
            await _process.DisposeAsync();
        }

        _process = TestProcess.Start(_program, _arguments, name: Name);
        try
        {
            await _process.WaitUntilReadyAsync(() => Ports.AcceptsAsync(Port), StartTimeout, $"{Name} listening on 127.0.0.1:{Port}");
        }
        catch (InvalidOperationException exception)
        {
            throw new InvalidOperationException($"{exception.Message}{Environment.NewLine}{_hint}", exception);
        }
    }

    /// <summary>Kills the process (as a crash would) and waits until its port refuses connections.</summary>
    public async Task StopAsync()
    {
        if (_process is null)
        {
            return;
        }

        await _process.DisposeAsync();
        _process = null;
        await Eventually.Until(async () => !await Ports.AcceptsAsync(Port), refused => refused, StartTimeout, $"{Name} stopped");
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
