using System.Text.Json.Nodes;

namespace Relay.Bench.Tests;

/// <summary>relay-loadgen against a real silo and a real HTTP destination: its JSON summary, acked ids and payload stamps.</summary>
public sealed class LoadGeneratorTests : SiloFixture
{
    private readonly string _folder = TempFolder.Create("relay-loadgen-");

    protected override SiloSettings Configure() => new SiloSettings
    {
        ["Relay:Destinations:sink:Protocol"] = "Http",
    }
        .Destination("sink", Destination.Url("/sink"));

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        TempFolder.Delete(_folder);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_closed_loop_run_reports_every_message_delivered_and_stamps_the_payloads(bool soap)
    {
        var json = Path.Combine(_folder, "load.json");
        var acked = Path.Combine(_folder, "acked.txt");
        var latencies = Path.Combine(_folder, "latencies.txt");
        var args = new List<string>
        {
            "--url", Silo.Client.BaseAddress!.ToString(), "--destination", "sink", "--count", "12", "--concurrency", "3",
            "--id-prefix", soap ? "smoke-soap" : "smoke-json", "--progress", "0", "--json", json, "--acked", acked,
            "--latency-log", latencies,
        };
        if (soap)
        {
            args.Add("--soap");
        }

        var (exit, output, errors) = await BenchTool.RunAsync("relay-loadgen.dll", [.. args]);

        Assert.True(exit == 0, output + errors);
        var report = JsonNode.Parse(await File.ReadAllTextAsync(json))!;
        Assert.Equal(12, (long)report["sent"]!);
        Assert.Equal(12, (long)report["answered"]!);
        Assert.Equal(0, (long)report["errors"]!);
        Assert.Equal(12, (long)report["byHttpStatus"]!["200"]!);
        Assert.Equal(12, (long)report["byMessageStatus"]!["Delivered"]!);
        Assert.Equal(12, (long)report["latencyMs"]!["count"]!);
        Assert.True((double)report["latencyMs"]!["p99"]! > 0);
        var ids = (await File.ReadAllLinesAsync(acked)).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(Enumerable.Range(0, 12).Select(i => $"{(soap ? "smoke-soap" : "smoke-json")}-{i}").Order(StringComparer.Ordinal), ids);

        // One line per answer: its slot (ms from the start), its latency (ms), its HTTP status.
        var answers = (await File.ReadAllLinesAsync(latencies)).Select(line => line.Split(' ')).ToArray();
        Assert.Equal(12, answers.Length);
        Assert.All(answers, a =>
        {
            Assert.Equal(3, a.Length);
            Assert.InRange(double.Parse(a[0], System.Globalization.CultureInfo.InvariantCulture), 0, 60_000);
            Assert.InRange(double.Parse(a[1], System.Globalization.CultureInfo.InvariantCulture), 0.001, 60_000);
            Assert.Equal("200", a[2]);
        });

        // Each payload starts with its id and the send time (Unix µs): the sink's end-to-end clock.
        var received = Destination.ReceivedAt("/sink");
        Assert.Equal(12, received.Count);
        var now = (TimeProvider.System.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks / TimeSpan.TicksPerMicrosecond;
        Assert.All(received, r =>
        {
            var parts = r.Text.Split(' ');
            Assert.Equal(r.Header("Idempotency-Key"), parts[0]);
            Assert.InRange(long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture), now - 120_000_000, now);
            Assert.Equal(100, r.Body.Length);
        });
    }
}
