using System.Globalization;
using Relay.LoadGen;

// relay-loadgen: a load generator for Relay's JSON API (see LoadOptions.Usage, or run with --help).
if (!LoadOptions.TryParse(args, out var options, out var error))
{
    await Console.Error.WriteLineAsync($"{error}{Environment.NewLine}{Environment.NewLine}{LoadOptions.Usage}");
    return 2;
}

if (options is null)
{
    Console.WriteLine(LoadOptions.Usage);
    return 0;
}

// Ctrl-C stops sending; the answers under way are awaited and the summary is still printed.
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

var startedAt = TimeProvider.System.GetUtcNow();
var (results, elapsed, acked, latencies) = await LoadRun.RunAsync(options, Console.Error, stop.Token);
var report = LoadReport.From(options, startedAt, results, elapsed);
Console.WriteLine(report.ToText());
if (options.JsonFile is { } file)
{
    var folder = Path.GetDirectoryName(Path.GetFullPath(file));
    if (folder is not null)
    {
        Directory.CreateDirectory(folder);
    }

    await File.WriteAllTextAsync(file, report.ToJson() + Environment.NewLine);
}

if (options.AckedFile is { } ackedFile)
{
    await File.WriteAllLinesAsync(ackedFile, acked);
}

if (options.LatencyLogFile is { } latencyLog)
{
    await File.WriteAllLinesAsync(latencyLog, latencies.Select(l =>
        string.Create(CultureInfo.InvariantCulture, $"{l.SlotMs:F3} {l.LatencyMs:F3} {l.Status}")));
}

return results.Answered > 0 ? 0 : 1;
