using System.Globalization;
using System.Text;

namespace Relay.BenchReport;

/// <summary>
/// The section of docs/BENCHMARKS.md between <c>&lt;!-- run:start --&gt;</c> and <c>&lt;!-- run:end --&gt;</c>: the targets of
/// issue 9 with the figures measured, then a table per scenario. The rest of the file (the memory section, notes) is kept.
/// </summary>
internal static class MarkdownReport
{
    public const string Start = "<!-- run:start -->";
    public const string End = "<!-- run:end -->";

    public static string Replace(string existing, string section)
    {
        var block = Start + "\n" + section.TrimEnd() + "\n" + End;
        var start = existing.IndexOf(Start, StringComparison.Ordinal);
        var end = existing.IndexOf(End, StringComparison.Ordinal);
        if (start >= 0 && end > start)
        {
            return existing[..start] + block + existing[(end + End.Length)..];
        }

        // First time: before the memory section, or at the end.
        var memory = existing.IndexOf("<!-- memory:start -->", StringComparison.Ordinal);
        return memory >= 0
            ? existing[..memory] + block + "\n\n" + existing[memory..]
            : existing.TrimEnd() + "\n\n" + block + "\n";
    }

    public static string Section(BenchResults r, string resultsFile, IReadOnlyList<(string Title, string File)> charts, string markdownFolder)
    {
        var md = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        static string F(double? v, string f = "N0") => BenchResults.Format(v, f);
        var machine = r.Root["machine"];
        md.AppendLine("## Throughput, latency, outage, crash: Relay beside Hangfire and pgbench");
        md.AppendLine();
        md.AppendLine(inv, $"Written by `bench/run.sh` ({r.Text("mode")} run) from `{Path.GetFileName(resultsFile)}`. Run of {r.Text("startedAt")}, commit {r.Text("commit")}; " +
            $"{machine?["cores"]} cores ({machine?["cpu"]}), {machine?["memoryGiB"]} GiB RAM; PostgreSQL {r.Text("postgres")}, .NET SDK {r.Text("dotnet")}; " +
            $"everything (PostgreSQL, silos, sink, load generator, Hangfire) on the same machine. Whole run: {r.Text("totalSeconds")} s.");
        if (r.Root["skipped"] is System.Text.Json.Nodes.JsonArray { Count: > 0 } skipped)
        {
            md.AppendLine();
            md.AppendLine(inv, $"Skipped in this run: {string.Join("; ", skipped.Select(s => s!.ToString()))}.");
        }

        md.AppendLine();
        md.AppendLine("### Targets");
        md.AppendLine();
        md.AppendLine("| target | measured | |");
        md.AppendLine("| --- | --- | --- |");
        foreach (var (target, measured, met) in Targets(r))
        {
            md.AppendLine(inv, $"| {target} | {measured} | {(met is null ? "not measured" : met.Value ? "met" : "**missed**")} |");
        }

        md.AppendLine();
        md.AppendLine(inv, $"`{Summary.Line(r)}`");
        md.AppendLine();
        md.AppendLine("### Throughput (closed loop: " + r.Text("concurrency") + " senders; the sink answers 200 in 1 ms)");
        md.AppendLine();
        md.AppendLine("| scenario | delivered msg/s | answers/s | sync answer p50 / p99 / p99.9 ms | send to sink p50 / p99 ms | DB commits per message | errors | duplicates |");
        md.AppendLine("| --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (var (key, title) in BenchResults.Throughput)
        {
            if (r.Scenario(key) is null)
            {
                continue;
            }

            var commits = key is "embedded" ? $"{F(r.Number(key, "commitsPerMessage"), "F2")} (SQLite)"
                : r.Number(key, "commitsPerMessage") is { } c ? $"{c:F2} (PostgreSQL xact_commit)" : "-";
            md.AppendLine(inv,
                $"| {title} | **{F(r.Number(key, "deliveredPerSecond"))}** | {F(r.Number(key, "answersPerSecond"))} | " +
                $"{F(r.Number(key, "syncLatencyMs.p50"), "F1")} / {F(r.Number(key, "syncLatencyMs.p99"), "F1")} / {F(r.Number(key, "syncLatencyMs.p999"), "F1")} | " +
                $"{F(r.Number(key, "endToEndMs.p50"), "F1")} / {F(r.Number(key, "endToEndMs.p99"), "F1")} | {commits} | {F(r.Number(key, "errors"))} | {F(r.Number(key, "duplicates"))} |");
        }

        var withCpu = BenchResults.Throughput.Concat(BenchResults.Latency).Where(s => r.Scenario(s.Key)?["cpuSeconds"] is not null).ToArray();
        if (withCpu.Length > 0)
        {
            md.AppendLine();
            md.AppendLine("Where the CPU went during each load (seconds of CPU, both cores together; *other* is everything else on the machine:");
            md.AppendLine("the load generator, and other work when the machine is shared; for the floor, *silos* is the proxy's CPU):");
            md.AppendLine();
            md.AppendLine("| scenario | load | silos | PostgreSQL | sink | Hangfire | other | machine busy | CPU ms per delivered message (silos / PostgreSQL / Hangfire) |");
            md.AppendLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
            foreach (var (key, title) in withCpu)
            {
                md.AppendLine(inv,
                    $"| {title} | {F(r.Number(key, "loadSeconds"), "F1")} s | {F(r.Number(key, "cpuSeconds.silos"), "F1")} | {F(r.Number(key, "cpuSeconds.postgres"), "F1")} | " +
                    $"{F(r.Number(key, "cpuSeconds.sink"), "F1")} | {F(r.Number(key, "cpuSeconds.hangfire"), "F1")} | {F(r.Number(key, "cpuSeconds.otherProcesses"), "F1")} | " +
                    $"{F(r.Number(key, "cpuSeconds.machine"), "F1")} | {F(r.Number(key, "cpuSeconds.msPerMessage.silos"), "F2")} / {F(r.Number(key, "cpuSeconds.msPerMessage.postgres"), "F2")} / {F(r.Number(key, "cpuSeconds.msPerMessage.hangfire"), "F2")} |");
            }
        }

        if (r.Scenario("pgbench") is not null)
        {
            md.AppendLine();
            md.AppendLine(inv, $"**The physical limit** (7, `pgbench`, one-row INSERT per transaction, {F(r.Number("pgbench", "seconds"))} s each, same PostgreSQL): " +
                $"1 client **{F(r.Number("pgbench", "clients1Tps"))}** commits/s, 16 clients **{F(r.Number("pgbench", "clients16Tps"))}** commits/s.");
            foreach (var key in new[] { "pg3", "hangfire" })
            {
                if (r.Number(key, "deliveredPerSecond") is { } rate && r.Number(key, "commitsPerMessage") is { } per && r.Number("pgbench", "clients16Tps") is > 0 and var tps)
                {
                    md.AppendLine(inv, $"{(key == "pg3" ? "Relay, 3 silos" : "Hangfire")} committed {rate * per:N0} transactions/s, {rate * per / tps:P0} of pgbench's 16-client rate.");
                }
            }
        }

        md.AppendLine();
        md.AppendLine("### Latency at a fixed rate (open loop, no coordinated omission)");
        md.AppendLine();
        var leftOut = BenchResults.Latency.Select(s => r.Number(s.Key, "latencySkipSeconds")).FirstOrDefault(v => v is > 0);
        if (leftOut is { } skip)
        {
            md.AppendLine(inv, $"Each load generator is a fresh process: the answers to the messages due in its first {skip:0.#} s (its own JIT, " +
                $"and the connections it opens) are sent and counted but left out of the percentiles. The floor is the proxy of " +
                $"scenario 0 at the same rate: what the box, the sink and the generator add by themselves.");
            md.AppendLine();
        }

        md.AppendLine("| scenario | rate | sent | sync answer p50 / p99 / p99.9 / max ms | send to sink p50 / p99 ms | errors |");
        md.AppendLine("| --- | --- | --- | --- | --- | --- |");
        foreach (var (key, title) in BenchResults.Latency)
        {
            if (r.Scenario(key) is not null)
            {
                md.AppendLine(inv,
                    $"| {title} | {F(r.Number(key, "rate"))} msg/s for {F(r.Number(key, "loadSeconds"))} s | {F(r.Number(key, "sent"))} | " +
                    $"{F(r.Number(key, "syncLatencyMs.p50"), "F1")} / **{F(r.Number(key, "syncLatencyMs.p99"), "F1")}** / {F(r.Number(key, "syncLatencyMs.p999"), "F1")} / {F(r.Number(key, "syncLatencyMs.max"), "F1")} | " +
                    $"{F(r.Number(key, "endToEndMs.p50"), "F1")} / {F(r.Number(key, "endToEndMs.p99"), "F1")} | {F(r.Number(key, "errors"))} |");
            }
        }

        var during = BenchResults.Throughput.Concat(BenchResults.Latency).Where(s => r.Scenario(s.Key)?["duringLoad"] is not null).ToArray();
        if (during.Length > 0)
        {
            md.AppendLine();
            md.AppendLine("**What the silos did during each load** (their `/metrics`, summed over the silos, from the start to the end of the load, " +
                "its first seconds included): the storage writer's transactions and how many of them took longer than 25, 100 and 250 ms " +
                "(a transaction that waits on the disk holds every request whose write it carries), and the garbage collections with the " +
                "time they paused the silo.");
            md.AppendLine();
            md.AppendLine("| scenario | storage transactions | over 25 / 100 / 250 ms | GCs gen0 / gen1 / gen2 | GC paused ms |");
            md.AppendLine("| --- | --- | --- | --- | --- |");
            foreach (var (key, title) in during)
            {
                md.AppendLine(inv,
                    $"| {title} | {F(r.Number(key, "duringLoad.storageTransactions"))} | " +
                    $"{F(r.Number(key, "duringLoad.transactionsOver25ms"))} / {F(r.Number(key, "duringLoad.transactionsOver100ms"))} / {F(r.Number(key, "duringLoad.transactionsOver250ms"))} | " +
                    $"{F(r.Number(key, "duringLoad.gcCollections.gen0"))} / {F(r.Number(key, "duringLoad.gcCollections.gen1"))} / {F(r.Number(key, "duringLoad.gcCollections.gen2"))} | " +
                    $"{F(r.Number(key, "duringLoad.gcPauseMs"), "N1")} |");
            }
        }

        if (r.Scenario("outage") is { } outage)
        {
            md.AppendLine();
            md.AppendLine("### Outage and recovery (PostgreSQL, 3 silos)");
            md.AppendLine();
            md.AppendLine(inv, $"The sink answers 503 to everything while {F(r.Number("outage", "messages"))} messages are sent to the destination `outage` " +
                $"(contract: a retry every {outage["contractDelay"]}; `MaxPerSecond` {F(r.Number("outage", "maxPerSecond"))}); then it answers 200 again.");
            md.AppendLine();
            md.AppendLine("| acknowledged | filled in | attempts refused during the outage | drained in | delivered/s during the drain | lost | duplicates | highest attempt |");
            md.AppendLine("| --- | --- | --- | --- | --- | --- | --- | --- |");
            md.AppendLine(inv, $"| {F(r.Number("outage", "acknowledged"))} | {F(r.Number("outage", "fillSeconds"))} s | {F(r.Number("outage", "refusedDuringOutage"))} | " +
                $"{F(r.Number("outage", "drainSeconds"), "F1")} s | **{F(r.Number("outage", "deliveredPerSecondDuringDrain"))}** | {F(r.Number("outage", "lost"))} | {F(r.Number("outage", "duplicates"))} | {F(r.Number("outage", "maxAttempt"))} |");
            if (outage["silos"] is System.Text.Json.Nodes.JsonArray { Count: > 0 } silos)
            {
                var total = silos.Sum(s => s!["delivered"]!.GetValue<double>());
                md.AppendLine();
                md.AppendLine("| silo (from Relay's audit) | successful attempts after the recovery | share | off its fair share by |");
                md.AppendLine("| --- | --- | --- | --- |");
                foreach (var silo in silos)
                {
                    var n = silo!["delivered"]!.GetValue<double>();
                    var fair = total / silos.Count;
                    md.AppendLine(inv, $"| `{silo["silo"]}` | {n:N0} | {n / total:P1} | {(n - fair) / fair:+0%;-0%;0%} |");
                }
            }
        }

        if (r.Scenario("crash") is not null)
        {
            md.AppendLine();
            md.AppendLine("### Silo crash under load (PostgreSQL, 3 silos)");
            md.AppendLine();
            md.AppendLine(inv, $"Open loop at {F(r.Number("crash", "rate"))} msg/s over the 3 silos; silo 3 gets SIGKILL {F(r.Number("crash", "killedAtSecond"))} s in. " +
                $"Sends to silo 3 after that fail to connect (not acknowledged, so not counted as lost).");
            md.AppendLine();
            md.AppendLine("| sent | acknowledged (200/202) | acknowledged but never delivered | duplicates | last delivery after the kill | after the load ended |");
            md.AppendLine("| --- | --- | --- | --- | --- | --- |");
            md.AppendLine(inv, $"| {F(r.Number("crash", "sent"))} | {F(r.Number("crash", "acknowledged"))} | **{F(r.Number("crash", "acknowledgedLost"))}** | {F(r.Number("crash", "duplicates"))} | " +
                $"{F(r.Number("crash", "lastArrivalAfterKillSeconds"), "F1")} s | {F(r.Number("crash", "lastArrivalAfterLoadSeconds"), "F1")} s |");
        }

        foreach (var (title, file) in charts)
        {
            md.AppendLine();
            md.AppendLine(inv, $"![{title}]({Path.GetRelativePath(markdownFolder, file).Replace('\\', '/')})");
        }

        return md.ToString();
    }

    /// <summary>The targets of issue 9: (target, figure measured, met? null when not measured).</summary>
    public static IEnumerable<(string Target, string Measured, bool? Met)> Targets(BenchResults r)
    {
        static string F(double? v, string f = "N0") => BenchResults.Format(v, f);
        var embedded = r.Number("embedded", "deliveredPerSecond");
        yield return ("embedded default: ≥ 3,000 delivered msg/s", $"{F(embedded)} msg/s", embedded is { } e ? e >= 3000 : null);
        var floor = r.Number("floor", "deliveredPerSecond");
        var share = embedded is { } e3 && floor is > 0 ? e3 / floor : (double?)null;
        yield return ("embedded: ≥ 50% of the storage-less forwarding proxy (the floor, same run)",
            share is { } sh ? $"{F(sh * 100, "F0")}% ({F(embedded)} / {F(floor)} msg/s)" : "-", share is { } sh2 ? sh2 >= 0.5 : null);
        var cluster = r.Number("pg3", "deliveredPerSecond");
        yield return ("PostgreSQL, 3 silos: ≥ 2,000 delivered msg/s", $"{F(cluster)} msg/s", cluster is { } c ? c >= 2000 : null);
        var hangfire = r.Number("hangfire", "deliveredPerSecond");
        var ratio = cluster is { } c2 && hangfire is > 0 ? c2 / hangfire : (double?)null;
        yield return ("≥ 10× Hangfire's rate (3 silos / Hangfire)", ratio is { } x ? $"{x:F2}× ({F(cluster)} / {F(hangfire)} msg/s)" : "-", ratio is { } x2 ? x2 >= 10 : null);
        var sqlite = r.Number("embedded", "commitsPerMessage");
        var pg = r.Number("pg3", "commitsPerMessage");
        yield return ("≤ 2 commits per message delivered at the first attempt", $"SQLite {F(sqlite, "F2")}; PostgreSQL (every transaction, reads included) {F(pg, "F2")}",
            sqlite is { } s && pg is { } p ? s <= 2 && p <= 2 : null);
        foreach (var (key, title) in BenchResults.Latency.Where(s => s.Key != "latency_floor"))
        {
            var p99 = r.Number(key, "syncLatencyMs.p99");
            yield return ($"sync-answer p99 at 1,000 msg/s < 25 ms ({title[3..]})", p99 is { } ms ? $"{ms:F1} ms" : "-", p99 is { } v ? v < 25 : null);
        }

        if (r.Scenario("outage") is { } outage)
        {
            var rate = r.Number("outage", "deliveredPerSecondDuringDrain");
            var max = r.Number("outage", "maxPerSecond");
            yield return ("outage drain at the destination's MaxPerSecond (≥ 90% of it)", $"{F(rate)} of {F(max)} msg/s", rate is { } d && max is { } m ? d >= 0.9 * m : null);
            var silos = outage["silos"]?.AsArray().Select(s => s!["delivered"]!.GetValue<double>()).ToArray() ?? [];
            var worst = silos.Length == 0 ? (double?)null : silos.Max(n => Math.Abs(n - silos.Average()) / silos.Average());
            yield return ("each silo within 25% of its share of the drain", worst is { } w ? $"worst {w:P0} off, over {silos.Length} silos" : "-",
                worst is { } w2 ? w2 <= 0.25 && silos.Length == 3 : null);
        }

        var lost = r.Number("crash", "acknowledgedLost");
        yield return ("kill -9 under load: acknowledged messages lost = 0", F(lost), lost is { } l ? l == 0 : null);
    }
}
