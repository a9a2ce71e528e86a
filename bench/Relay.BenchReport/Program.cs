using System.Text.Json.Nodes;
using Relay.BenchReport;

// relay-bench-report: turns the results JSON that bench/run.sh writes into the summary lines it prints and, with
// --markdown, the "run.sh" section of docs/BENCHMARKS.md and its PNG charts.
//   relay-bench-report bench/results/<date>.json [--markdown docs/BENCHMARKS.md --images docs/images]
string? resultsFile = null, markdown = null, images = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--markdown" when i + 1 < args.Length:
            markdown = args[++i];
            break;
        case "--images" when i + 1 < args.Length:
            images = args[++i];
            break;
        default:
            if (args[i].StartsWith("--", StringComparison.Ordinal) || resultsFile is not null)
            {
                await Console.Error.WriteLineAsync("usage: relay-bench-report RESULTS.json [--markdown FILE --images FOLDER]");
                return 2;
            }

            resultsFile = args[i];
            break;
    }
}

if (resultsFile is null)
{
    await Console.Error.WriteLineAsync("usage: relay-bench-report RESULTS.json [--markdown FILE --images FOLDER]");
    return 2;
}

var results = new BenchResults(JsonNode.Parse(await File.ReadAllTextAsync(resultsFile))!.AsObject());
if (markdown is not null)
{
    images ??= Path.Combine(Path.GetDirectoryName(Path.GetFullPath(markdown))!, "images");
    Directory.CreateDirectory(images);
    var charts = Charts.Write(results, images);
    var section = MarkdownReport.Section(results, resultsFile, charts, Path.GetDirectoryName(Path.GetFullPath(markdown))!);
    var existing = File.Exists(markdown) ? await File.ReadAllTextAsync(markdown) : "# Benchmarks\n";
    await File.WriteAllTextAsync(markdown, MarkdownReport.Replace(existing, section));
    await Console.Error.WriteLineAsync($"wrote {markdown} and {charts.Count} chart(s) in {images}");
}

foreach (var line in Summary.Lines(results))
{
    Console.WriteLine(line);
}

return 0;
