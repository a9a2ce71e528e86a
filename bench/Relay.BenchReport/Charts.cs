using System.Text.Json.Nodes;
using ScottPlot;

namespace Relay.BenchReport;

/// <summary>The report's PNG charts, drawn with ScottPlot from the results alone.</summary>
internal static class Charts
{
    /// <summary>Writes the charts the results have data for; returns (title, file) of each.</summary>
    public static IReadOnlyList<(string Title, string File)> Write(BenchResults r, string folder)
    {
        var written = new List<(string, string)>();
        var throughput = BenchResults.Throughput.Where(s => r.Number(s.Key, "deliveredPerSecond") is not null).ToArray();
        if (throughput.Length > 0)
        {
            var plot = new Plot();
            for (var i = 0; i < throughput.Length; i++)
            {
                var bar = plot.Add.Bar(i, r.Number(throughput[i].Key, "deliveredPerSecond")!.Value);
                bar.Color = throughput[i].Key is "hangfire" or "floor" ? Colors.Gray : Colors.SteelBlue;
            }

            plot.Axes.Bottom.SetTicks(
                Enumerable.Range(0, throughput.Length).Select(i => (double)i).ToArray(),
                throughput.Select(s => Label(s.Key)).ToArray());
            plot.Axes.Margins(bottom: 0);
            plot.Title("Delivered messages per second (sink answers 200 in 1 ms)");
            plot.YLabel("delivered msg/s");
            written.Add(Save(plot, folder, "bench-throughput.png", "Delivered messages per second"));
        }

        var latency = BenchResults.Latency.Where(s => r.Scenario(s.Key) is not null).ToArray();
        if (latency.Length > 0)
        {
            var plot = new Plot();
            string[] percentiles = ["p50", "p99", "p999"];
            var palette = new[] { Colors.SteelBlue, Colors.Orange, Colors.FireBrick };
            for (var s = 0; s < latency.Length; s++)
            {
                for (var p = 0; p < percentiles.Length; p++)
                {
                    var value = r.Number(latency[s].Key, "syncLatencyMs." + percentiles[p]) ?? 0;
                    var bar = plot.Add.Bar(s * 4 + p, value);
                    bar.Color = palette[p];
                }
            }

            plot.Axes.Bottom.SetTicks(
                Enumerable.Range(0, latency.Length).Select(s => s * 4 + 1.0).ToArray(),
                latency.Select(s => Label(s.Key) + " (p50, p99, p99.9)").ToArray());
            plot.Add.HorizontalLine(25, 1, Colors.Black, LinePattern.Dashed);
            plot.Axes.Margins(bottom: 0);
            plot.Title("Sync-answer latency at 1,000 msg/s (dashed: the 25 ms target for p99)");
            plot.YLabel("ms");
            written.Add(Save(plot, folder, "bench-latency.png", "Sync-answer latency at a fixed rate"));
        }

        var series = new[] { ("outage", "outage: seconds after the destination came back"), ("crash", "kill -9: seconds after the load started") }
            .Where(s => r.Scenario(s.Item1)?["perSecond"] is JsonArray { Count: > 0 }).ToArray();
        if (series.Length > 0)
        {
            var plot = new Plot();
            foreach (var (key, legend) in series)
            {
                var points = r.Scenario(key)!["perSecond"]!.AsArray().Select(p => (X: p![0]!.GetValue<double>(), Y: p[1]!.GetValue<double>())).ToArray();
                var line = plot.Add.Scatter(points.Select(p => p.X).ToArray(), points.Select(p => p.Y).ToArray());
                line.LegendText = legend;
                line.MarkerSize = 3;
            }

            if (r.Number("outage", "maxPerSecond") is { } max)
            {
                var limit = plot.Add.HorizontalLine(max, 1, Colors.Black, LinePattern.Dashed);
                limit.LegendText = "the outage destination's MaxPerSecond";
            }

            if (r.Number("crash", "killedAtSecond") is { } killed)
            {
                var kill = plot.Add.VerticalLine(killed, 1, Colors.FireBrick, LinePattern.Dotted);
                kill.LegendText = "kill -9 of silo 3";
            }

            plot.ShowLegend(Alignment.UpperRight);
            plot.Title("Deliveries per second at the sink: outage drain and silo crash");
            plot.XLabel("seconds");
            plot.YLabel("delivered per second");
            written.Add(Save(plot, folder, "bench-recovery.png", "Deliveries per second during the outage drain and the crash"));
        }

        return written;
    }

    private static string Label(string key) => key switch
    {
        "floor" => "floor (proxy)",
        "embedded" => "embedded",
        "soap" => "embedded SOAP",
        "pg1" => "PG 1 silo",
        "pg3" => "PG 3 silos",
        "hangfire" => "Hangfire",
        "latency_floor" => "floor (proxy)",
        "latency_embedded" => "embedded",
        "latency_cluster3" => "PG 3 silos",
        _ => key,
    };

    private static (string, string) Save(Plot plot, string folder, string name, string title)
    {
        var path = Path.Combine(folder, name);
        plot.SavePng(path, 900, 450);
        return (title, path);
    }
}
