namespace Relay.Bench.Tests;

/// <summary>relay-bench-report on a small results file: the summary line, the markdown tables, the PNG charts.</summary>
public sealed class ReportGeneratorTests : IDisposable
{
    private readonly string _folder = TempFolder.Create("relay-report-");

    public void Dispose() => TempFolder.Delete(_folder);

    private const string Results = """
        {
          "startedAt": "2026-11-30T12:00:00Z", "mode": "quick", "totalSeconds": 200, "commit": "abc1234",
          "machine": { "cores": 2, "cpu": "test CPU", "memoryGiB": 8, "loadAverageAtEnd": "1 1 1" },
          "postgres": "15.18", "dotnet": "10.0.100", "concurrency": 64, "skipped": [],
          "scenarios": {
            "pgbench": { "clients1Tps": 900, "clients16Tps": 9000, "seconds": 4 },
            "floor": { "sent": 6000, "answered": 6000, "errors": 0, "answersPerSecond": 6000, "delivered": 6000, "duplicates": 0,
              "deliveredPerSecond": 6000, "loadSeconds": 8, "syncLatencyMs": { "p50": 5, "p99": 10, "p999": 15, "max": 20 },
              "endToEndMs": { "p50": 3, "p99": 8 } },
            "embedded": { "sent": 4000, "answered": 4000, "errors": 0, "answersPerSecond": 3100, "delivered": 4000, "duplicates": 0,
              "deliveredPerSecond": 3200.5, "loadSeconds": 8, "syncLatencyMs": { "p50": 10, "p99": 20, "p999": 30, "max": 40 },
              "endToEndMs": { "p50": 5, "p99": 15 }, "sqliteCommits": 800, "commitsPerMessage": 0.2 },
            "pg3": { "sent": 2000, "answered": 2000, "errors": 0, "answersPerSecond": 2100, "delivered": 2000, "duplicates": 0,
              "deliveredPerSecond": 2100, "syncLatencyMs": { "p50": 12, "p99": 24, "p999": 40, "max": 50 },
              "endToEndMs": { "p50": 6, "p99": 18 }, "xactCommits": 3000, "commitsPerMessage": 1.5, "silos": 3 },
            "hangfire": { "sent": 300, "answered": 300, "errors": 0, "answersPerSecond": 400, "delivered": 300, "duplicates": 0,
              "deliveredPerSecond": 150, "syncLatencyMs": { "p50": 30, "p99": 60, "p999": 70, "max": 80 },
              "endToEndMs": { "p50": 50, "p99": 300 }, "xactCommits": 1500, "commitsPerMessage": 5 },
            "latency_embedded": { "rate": 1000, "sent": 8000, "loadSeconds": 8, "errors": 0,
              "syncLatencyMs": { "p50": 3, "p99": 12, "p999": 30, "max": 45 }, "endToEndMs": { "p50": 2, "p99": 9 },
              "duringLoad": { "storageTransactions": 15800, "transactionsOver25ms": 9, "transactionsOver100ms": 3, "transactionsOver250ms": 1,
                "gcCollections": { "gen0": 140, "gen1": 6, "gen2": 0 }, "gcPauseMs": 812.4 } },
            "outage": { "messages": 3000, "acknowledged": 3000, "fillSeconds": 10, "refusedDuringOutage": 20, "contractDelay": "00:00:05",
              "maxPerSecond": 250, "delivered": 3000, "lost": 0, "duplicates": 0, "maxAttempt": 3, "drainSeconds": 12.5,
              "deliveredPerSecondDuringDrain": 240, "perSecond": [[0, 10], [1, 250], [2, 248]],
              "silos": [ { "silo": "a", "delivered": 1000 }, { "silo": "b", "delivered": 990 }, { "silo": "c", "delivered": 1010 } ] },
            "crash": { "rate": 500, "killedAtSecond": 6, "sent": 8000, "acknowledged": 7400, "delivered": 7400, "acknowledgedLost": 0,
              "duplicates": 2, "lastArrivalAfterKillSeconds": 25, "lastArrivalAfterLoadSeconds": 15, "perSecond": [[0, 500], [1, 480]] }
          }
        }
        """;

    [Fact]
    public async Task The_report_prints_the_summary_line_and_writes_the_tables_and_charts_keeping_the_rest_of_the_page()
    {
        var results = Path.Combine(_folder, "results.json");
        await File.WriteAllTextAsync(results, Results);
        var markdown = Path.Combine(_folder, "BENCHMARKS.md");
        await File.WriteAllTextAsync(markdown, "# Benchmarks\n\n<!-- memory:start -->\nmemory figures\n<!-- memory:end -->\n\nnotes\n");
        var images = Path.Combine(_folder, "images");

        var (exit, output, errors) = await BenchTool.RunAsync("relay-bench-report.dll", results, "--markdown", markdown, "--images", images);

        Assert.True(exit == 0, output + errors);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal("summary: embedded 3200 msg/s, cluster3 2100 msg/s, hangfire 150 msg/s, ratio 14.00, commits/msg 1.50", lines[^1]);
        var page = await File.ReadAllTextAsync(markdown);
        Assert.Contains("<!-- run:start -->", page, StringComparison.Ordinal);
        Assert.Contains("| scenario | delivered msg/s |", page, StringComparison.Ordinal);
        Assert.Contains("| 1. embedded (SQLite), 1 silo, JSON | **3,200** |", page, StringComparison.Ordinal);
        Assert.Contains("| embedded default: ≥ 3,000 delivered msg/s | 3,200 msg/s | met |", page, StringComparison.Ordinal);
        Assert.Contains("| 0. floor: storage-less forwarding proxy | **6,000** |", page, StringComparison.Ordinal);
        Assert.Contains("| embedded: ≥ 50% of the storage-less forwarding proxy (the floor, same run) | 53% (3,200 / 6,000 msg/s) | met |", page, StringComparison.Ordinal);
        Assert.Contains("| sync-answer p99 at 1,000 msg/s < 25 ms (PostgreSQL, 3 silos) | - | not measured |", page, StringComparison.Ordinal);
        Assert.Contains("| 3. embedded, 1 silo | 15,800 | 9 / 3 / 1 | 140 / 6 / 0 | 812.4 |", page, StringComparison.Ordinal);
        Assert.DoesNotContain("| 1. embedded (SQLite), 1 silo, JSON | - |", page, StringComparison.Ordinal);   // no figures of the silos there: no row
        Assert.Contains("memory figures", page, StringComparison.Ordinal);
        Assert.True(page.IndexOf("<!-- run:end -->", StringComparison.Ordinal) < page.IndexOf("<!-- memory:start -->", StringComparison.Ordinal));
        Assert.EndsWith("notes\n", page, StringComparison.Ordinal);
        foreach (var chart in new[] { "bench-throughput.png", "bench-latency.png", "bench-recovery.png" })
        {
            var bytes = await File.ReadAllBytesAsync(Path.Combine(images, chart));
            Assert.True(bytes.Length > 1000, chart);
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
            Assert.Contains($"](images/{chart})", page, StringComparison.Ordinal);
        }

        // Run twice: the section is replaced, not added again.
        (exit, output, errors) = await BenchTool.RunAsync("relay-bench-report.dll", results, "--markdown", markdown, "--images", images);
        Assert.True(exit == 0, output + errors);
        page = await File.ReadAllTextAsync(markdown);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(page, "<!-- run:start -->"));
    }
}
