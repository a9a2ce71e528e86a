using System.Diagnostics;

namespace Relay.Bench.Tests;

/// <summary>Runs one of the benchmark's command-line tools (built next to the tests) as bench/run.sh does: dotnet tool.dll args.</summary>
internal static class BenchTool
{
    /// <summary>Output is standard output; Errors standard error (progress and diagnostics).</summary>
    public static Task<(int ExitCode, string Output, string Errors)> RunAsync(string dll, params string[] args) =>
        RunAsync(dll, TimeSpan.FromSeconds(60), args);

    public static async Task<(int ExitCode, string Output, string Errors)> RunAsync(string dll, TimeSpan bound, params string[] args)
    {
        var path = Path.Combine(AppContext.BaseDirectory, dll);
        Assert.True(File.Exists(path), $"{path} was not built next to the tests");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(path);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(bound);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{dll} did not finish within {bound.TotalSeconds:F0} s");
        }

        return (process.ExitCode, await output, await error);
    }
}
