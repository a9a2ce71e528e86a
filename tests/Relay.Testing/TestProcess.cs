using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;

namespace Relay.Testing;

/// <summary>
/// The one way tests start a process: a silo (<see cref="SiloProcess"/>), PostgreSQL (<see cref="PostgresServer"/>),
/// the protocol servers, a command-line tool. It captures what the process writes, waits with a deadline until it is
/// ready (or says it exited first, with its output), and kills its whole tree at dispose, and at the latest when the
/// test process exits, so no server outlives the test run and loads the machine for every test after it.
/// </summary>
public sealed class TestProcess : IAsyncDisposable
{
    private static readonly ConcurrentDictionary<TestProcess, byte> Running = new();
    private const int KeptLines = 1000;

    private readonly Process _process;
    private readonly int _keptLines;
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly ConcurrentQueue<string> _stderr = new();
    private int _disposed;

    static TestProcess()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var process in Running.Keys)
            {
                process.Kill();
            }
        };
    }

    private TestProcess(Process process, string name, int keptLines)
    {
        _process = process;
        Name = name;
        _keptLines = keptLines;
    }

    /// <summary>What failures call the process: its program's name unless the caller gave a better one.</summary>
    public string Name { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string StandardOutput => string.Join(Environment.NewLine, _stdout);

    public string StandardError => string.Join(Environment.NewLine, _stderr);

    /// <summary>
    /// Starts <paramref name="program"/> with its standard input closed and its output captured (the last
    /// <paramref name="keptLines"/> lines of each stream). Environment entries set to null are removed.
    /// </summary>
    public static TestProcess Start(
        string program,
        IEnumerable<string> arguments,
        string? workingDirectory = null,
        IReadOnlyDictionary<string, string?>? environment = null,
        string? name = null,
        int keptLines = KeptLines)
    {
        var start = new ProcessStartInfo(program)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            // Paths relative to nothing of ours unless the caller asks for a folder.
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                start.Environment.Remove(key);
            }
            else
            {
                start.Environment[key] = value;
            }
        }

        var process = new Process { StartInfo = start };
        var result = new TestProcess(process, name ?? Path.GetFileName(program), keptLines);
        process.OutputDataReceived += (_, e) => result.Keep(result._stdout, e.Data);
        process.ErrorDataReceived += (_, e) => result.Keep(result._stderr, e.Data);
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception exception)
        {
            process.Dispose();
            throw new InvalidOperationException($"Could not start {program}: {exception.Message}", exception);
        }

        Running[result] = 0;
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return result;
    }

    /// <summary>
    /// Runs a program to its end within <paramref name="timeout"/> (else kills it and throws a
    /// <see cref="TimeoutException"/>) and answers its exit code and output; the caller judges the exit code.
    /// </summary>
    public static async Task<(int ExitCode, string Output, string Errors)> RunAsync(
        string program,
        IEnumerable<string> arguments,
        TimeSpan timeout,
        string? workingDirectory = null,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        // All of the output: the caller reads it.
        await using var process = Start(program, arguments, workingDirectory, environment, keptLines: int.MaxValue);
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{process.Name} did not finish within {timeout}.{Environment.NewLine}{process}");
        }

        return (process.ExitCode, process.StandardOutput, process.StandardError);
    }

    /// <summary>As <see cref="RunAsync"/>, and throws with the program's output when it exits with other than 0.</summary>
    public static async Task<string> RunCheckedAsync(
        string program,
        IEnumerable<string> arguments,
        TimeSpan timeout,
        string? workingDirectory = null,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        var list = arguments.ToList();
        var (exitCode, output, errors) = await RunAsync(program, list, timeout, workingDirectory, environment);
        if (exitCode != 0)
        {
            throw new InvalidOperationException(new StringBuilder()
                .Append(Path.GetFileName(program)).Append(' ').Append(string.Join(' ', list))
                .Append(" exited with ").Append(exitCode).AppendLine(":")
                .AppendLine(errors).Append(output).ToString());
        }

        return output;
    }

    /// <summary>
    /// Waits until <paramref name="ready"/> says so; throws with the process's output when it exits first
    /// (<see cref="InvalidOperationException"/>) or when <paramref name="timeout"/> passes (<see cref="TimeoutException"/>).
    /// </summary>
    public async Task WaitUntilReadyAsync(Func<Task<bool>> ready, TimeSpan timeout, string what)
    {
        try
        {
            await Eventually.Until(
                async () => _process.HasExited
                    ? throw new InvalidOperationException($"{Name} exited with {_process.ExitCode} before {what}.{Environment.NewLine}{this}")
                    : await ready(),
                isReady => isReady,
                timeout,
                what);
        }
        catch (TimeoutException exception)
        {
            throw new TimeoutException($"{exception.Message}{Environment.NewLine}{this}", exception);
        }
    }

    /// <summary>Waits for the exit and the end of the output.</summary>
    public async Task WaitForExitAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await _process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            await KillAsync();
            throw;
        }
    }

    /// <summary>kill -9 of the process and its children: no shutdown, no flush, nothing. Waits for the exit.</summary>
    public async Task KillAsync()
    {
        Kill();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(deadline.Token);
        Running.TryRemove(this, out _);
    }

    private void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Exited already, or never started.
        }
    }

    private void Keep(ConcurrentQueue<string> lines, string? line)
    {
        if (line is null)
        {
            return;
        }

        lines.Enqueue(line);
        while (lines.Count > _keptLines)
        {
            lines.TryDequeue(out _);
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
            await KillAsync();
        }
        finally
        {
            _process.Dispose();
        }
    }

    /// <summary>The process's error output and the end of its standard output, for a failure's message.</summary>
    public override string ToString() =>
        $"stderr:{Environment.NewLine}{StandardError}{Environment.NewLine}stdout (end):{Environment.NewLine}{string.Join(Environment.NewLine, _stdout.TakeLast(20))}";
}
