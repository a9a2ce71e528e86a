using Relay.Fuzz;

// relay-fuzz: fuzzes a running silo's front doors (see FuzzOptions.Usage, or run with --help).
if (!FuzzOptions.TryParse(args, out var options, out var error))
{
    await Console.Error.WriteLineAsync($"{error}{Environment.NewLine}{Environment.NewLine}{FuzzOptions.Usage}");
    return 2;
}

if (options is null)
{
    Console.WriteLine(FuzzOptions.Usage);
    return 0;
}

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

await using var run = new FuzzRun(options, Console.Error);
var report = await run.RunAsync(stop.Token);
Console.WriteLine(report.ToText());
if (options.JsonFile is { } file)
{
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
    await File.WriteAllTextAsync(file, report.ToJson() + Environment.NewLine);
}

return report.FindingCount == 0 ? 0 : 1;
