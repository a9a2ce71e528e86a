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
        return await TestProcess.RunAsync("dotnet", [path, .. args], bound, workingDirectory: Environment.CurrentDirectory);
    }
}
