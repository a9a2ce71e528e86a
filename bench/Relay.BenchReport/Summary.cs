using System.Globalization;

namespace Relay.BenchReport;

/// <summary>One line per scenario, then the summary line runs are compared by (its form is fixed: issue 9).</summary>
internal static class Summary
{
    public static IEnumerable<string> Lines(BenchResults r)
    {
        static string F(double? v, string f = "N0") => BenchResults.Format(v, f).Replace(",", "", StringComparison.Ordinal);
        if (r.Scenario("pgbench") is not null)
        {
            yield return $"pgbench: one-row INSERT, 1 client {F(r.Number("pgbench", "clients1Tps"))} tx/s, 16 clients {F(r.Number("pgbench", "clients16Tps"))} tx/s";
        }

        foreach (var (key, title) in BenchResults.Throughput)
        {
            if (r.Scenario(key) is null)
            {
                continue;
            }

            yield return $"{title}: {F(r.Number(key, "deliveredPerSecond"))} delivered msg/s, {F(r.Number(key, "answersPerSecond"))} answers/s, " +
                $"sync p50 {F(r.Number(key, "syncLatencyMs.p50"), "F1")} ms p99 {F(r.Number(key, "syncLatencyMs.p99"), "F1")} ms, " +
                $"to the sink p99 {F(r.Number(key, "endToEndMs.p99"), "F1")} ms, commits/msg {F(r.Number(key, "commitsPerMessage"), "F2")}, " +
                $"errors {F(r.Number(key, "errors"))}, duplicates {F(r.Number(key, "duplicates"))}";
        }

        foreach (var (key, title) in BenchResults.Latency)
        {
            if (r.Scenario(key) is null)
            {
                continue;
            }

            yield return $"{title} at {F(r.Number(key, "rate"))} msg/s: sync p50 {F(r.Number(key, "syncLatencyMs.p50"), "F1")} ms, " +
                $"p99 {F(r.Number(key, "syncLatencyMs.p99"), "F1")} ms, p99.9 {F(r.Number(key, "syncLatencyMs.p999"), "F1")} ms; " +
                $"to the sink p99 {F(r.Number(key, "endToEndMs.p99"), "F1")} ms; errors {F(r.Number(key, "errors"))}";
        }

        if (r.Scenario("outage") is { } outage)
        {
            var shares = outage["silos"]?.AsArray().Select(s => $"{s!["silo"]}: {s["delivered"]}") ?? [];
            yield return $"4. outage: {F(r.Number("outage", "acknowledged"))} acknowledged, drained in {F(r.Number("outage", "drainSeconds"), "F1")} s at " +
                $"{F(r.Number("outage", "deliveredPerSecondDuringDrain"))} msg/s (MaxPerSecond {F(r.Number("outage", "maxPerSecond"))}), " +
                $"lost {F(r.Number("outage", "lost"))}, duplicates {F(r.Number("outage", "duplicates"))}, per silo [{string.Join(", ", shares)}]";
        }

        if (r.Scenario("crash") is not null)
        {
            yield return $"5. kill -9 of 1 of 3 silos at {F(r.Number("crash", "rate"))} msg/s: {F(r.Number("crash", "acknowledged"))} acknowledged, " +
                $"lost {F(r.Number("crash", "acknowledgedLost"))}, duplicates {F(r.Number("crash", "duplicates"))}, last delivery " +
                $"{F(r.Number("crash", "lastArrivalAfterKillSeconds"), "F1")} s after the kill ({F(r.Number("crash", "lastArrivalAfterLoadSeconds"), "F1")} s after the load ended)";
        }

        yield return Line(r);
    }

    /// <summary><c>summary: embedded n msg/s, cluster3 n msg/s, hangfire n msg/s, ratio r, commits/msg c</c>.</summary>
    public static string Line(BenchResults r)
    {
        var embedded = r.Number("embedded", "deliveredPerSecond");
        var cluster = r.Number("pg3", "deliveredPerSecond");
        var hangfire = r.Number("hangfire", "deliveredPerSecond");
        var ratio = cluster is { } c && hangfire is > 0 ? c / hangfire : (double?)null;
        var commits = r.Number("pg3", "commitsPerMessage");
        static string F(double? v, string f) => v is { } x ? x.ToString(f, CultureInfo.InvariantCulture) : "n/a";
        return $"summary: embedded {F(embedded, "F0")} msg/s, cluster3 {F(cluster, "F0")} msg/s, hangfire {F(hangfire, "F0")} msg/s, " +
            $"ratio {F(ratio, "F2")}, commits/msg {F(commits, "F2")}";
    }
}
