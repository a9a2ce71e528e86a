using System.Diagnostics;
using Npgsql;

namespace Relay.EndToEnd.Tests;

/// <summary>
/// The cluster for real: a private PostgreSQL and three silo processes sharing it through Orleans's ADO.NET
/// providers. Silos are killed with SIGKILL.
/// </summary>
public sealed class ClusterTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly List<SiloProcess> _silos = [];
    private PostgresServer _postgres = null!;
    private TestDestination _destination = null!;
    private string _connectionString = "";
    private readonly string _clusterId = "cluster-" + Guid.NewGuid().ToString("N")[..8];

    public async Task InitializeAsync()
    {
        _postgres = await PostgresServer.Shared;
        _connectionString = await _postgres.CreateDatabaseAsync();
        _destination = await TestDestination.StartAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var silo in _silos)
        {
            await silo.DisposeAsync();
        }

        await _destination.DisposeAsync();
    }

    private string[] Args(params string[] more) =>
    [
        "--Relay:Storage:Provider=AdoNet",
        "--Relay:Storage:Invariant=Npgsql",
        $"--Relay:Storage:ConnectionString={_connectionString}",
        "--Relay:Storage:Migrate=true",
        "--Relay:Storage:MaxPoolSize=20",
        $"--Relay:Cluster:ClusterId={_clusterId}",
        // Quick failure detection for the test; docs/OPERATIONS.md explains the settings.
        "--Relay:Cluster:Membership:ProbeTimeout=00:00:01",
        "--Relay:Cluster:Membership:NumMissedProbesLimit=2",
        "--Relay:Cluster:Membership:IAmAliveTablePublishTimeout=00:00:05",
        "--Relay:Cluster:Membership:TableRefreshTimeout=00:00:02",
        "--Relay:Scheduler:PollInterval=00:00:00.100",
        "--Relay:Contracts:steady:MaxAttempts=1000",
        "--Relay:Contracts:steady:Delay=00:00:00.500",
        $"--Relay:Destinations:orders:Address={_destination.Url("/orders")}",
        "--Relay:Destinations:orders:Contract=steady",
        "--Relay:Samples:Enabled=false",
        "--Logging:LogLevel:Default=Warning",
        .. more,
    ];

    private async Task StartSilosAsync(int count, params string[] more)
    {
        // One at a time: the first applies the schema; the others join its cluster.
        for (var i = 0; i < count; i++)
        {
            _silos.Add(await SiloProcess.StartAsync(SiloProcess.NewWorkingDirectory(), Args(more)));
        }
    }

    [Fact]
    public async Task Deliveries_in_retry_survive_kill_9_of_a_silo_and_are_delivered_once_when_the_destination_returns()
    {
        await StartSilosAsync(3);
        _destination.Answer("/orders", Reply.Status503);
        const int count = 300;

        // Every silo accepts any message.
        var sends = Enumerable.Range(0, count).Select(async i =>
        {
            var silo = _silos[i % 3];
            var response = await silo.Client.PostAsJsonAsync("/messages", new { id = $"c-{i}", destination = "orders", payload = $"order {i}" });
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        });
        await Task.WhenAll(sends);

        // Any silo answers for any message, the same.
        var onFirst = await ReadAsync(_silos[0], "c-1");
        var onThird = await ReadAsync(_silos[2], "c-1");
        Assert.Equal((string?)onFirst!["acceptedAt"], (string?)onThird!["acceptedAt"]);
        Assert.Equal("InRetry", (string?)onThird["status"]);

        await Eventually.Until(() => _destination.ReceivedAt("/orders").Count >= 2 * count, what: "retries under way on every silo");
        var victim = _silos[1];
        var killedAt = Stopwatch.StartNew();
        await victim.KillAsync();
        _destination.Answer("/orders", Reply.Ok());
        var before = _destination.ReceivedAt("/orders").Count;
        var survivors = new[] { _silos[0], _silos[2] };

        var declaredDead = await Eventually.Until(DeadSilosAsync, n => n >= 1, TimeSpan.FromSeconds(60), "the killed silo declared dead");
        var detection = killedAt.Elapsed;
        for (var i = 0; i < count; i++)
        {
            var id = $"c-{i}";
            await Eventually.Until(async () => (string?)(await ReadAsync(survivors[i % 2], id))?["status"], s => s == "Delivered", TimeSpan.FromSeconds(90), $"{id} delivered");
        }

        var allDelivered = killedAt.Elapsed;
        output.WriteLine($"killed silo declared dead after {detection.TotalSeconds:0.0} s; all {count} delivered {allDelivered.TotalSeconds:0.0} s after the kill");

        // Exactly once after the destination came back: it answered 200 to every request from then on.
        var afterwards = _destination.ReceivedAt("/orders").Skip(before).GroupBy(r => r.Header("Idempotency-Key")).ToDictionary(g => g.Key!, g => g.Count());
        Assert.Equal(count, afterwards.Count);
        Assert.All(afterwards, pair => Assert.Equal(1, pair.Value));
        Assert.Equal(1, declaredDead);
    }

    [Fact]
    public async Task A_new_message_is_attempted_first_on_the_silo_that_took_it()
    {
        const int perSilo = 40;
        await StartSilosAsync(2);
        _destination.Answer("/orders", Reply.Ok());

        await Task.WhenAll(Enumerable.Range(0, perSilo).SelectMany(i => new[] { 0, 1 }.Select(async s =>
        {
            var response = await _silos[s].Client.PostAsJsonAsync("/messages", new { id = $"local{s}-{i}", destination = "orders", payload = "p" });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        })));

        // The audit names the silo of every attempt: one silo for everything the first took, the other for the second's.
        // (Placed by their hash, about half of each would have been attempted on the other silo.)
        var attempts = await AttemptSilosAsync();
        var first = attempts.Where(a => a.MessageId.StartsWith("local0-", StringComparison.Ordinal)).Select(a => a.Silo).Distinct().ToArray();
        var second = attempts.Where(a => a.MessageId.StartsWith("local1-", StringComparison.Ordinal)).Select(a => a.Silo).Distinct().ToArray();
        Assert.Equal(2 * perSilo, attempts.Count);
        Assert.Single(first);
        Assert.Single(second);
        Assert.NotEqual(first[0], second[0]);
    }

    [Fact]
    public async Task A_backlog_taken_by_one_silo_is_attempted_first_there_and_worked_by_all_three_in_fair_shares_once_the_destination_is_back()
    {
        const int count = 600;
        await StartSilosAsync(3, $"--Relay:Destinations:comeback:Address={_destination.Url("/comeback")}", "--Relay:Destinations:comeback:Contract=steady");
        _destination.Answer("/comeback", Reply.Status503);

        // Every message through the first silo: each first attempt is made there, and fails.
        await Task.WhenAll(Enumerable.Range(0, 24).Select(async worker =>
        {
            for (var i = worker; i < count; i += 24)
            {
                var response = await _silos[0].Client.PostAsJsonAsync("/messages", new { id = $"back-{i}", destination = "comeback", payload = "p" });
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            }
        }));
        var firsts = await CountBySiloAsync("SELECT silo, count(*) FROM audit WHERE destination = 'comeback' AND kind = 'Attempt' AND attempt = 1 GROUP BY silo");
        Assert.Equal(count, firsts.Values.Sum());
        Assert.Single(firsts);

        // The destination comes back: the schedulers wake the retries, and every silo works its share of them.
        _destination.Answer("/comeback", Reply.Ok());
        await Eventually.Until(async () => await CountAsync("SELECT count(*) FROM deliveries WHERE destination = 'comeback' AND status = 'Delivered'"),
            n => n == count, TimeSpan.FromSeconds(120), "the backlog delivered");
        var shares = await CountBySiloAsync("SELECT silo, count(*) FROM audit WHERE destination = 'comeback' AND outcome = 'Success' GROUP BY silo");
        output.WriteLine($"first attempts: {string.Join(", ", firsts.Select(s => $"{s.Key}: {s.Value}"))}; deliveries: {string.Join(", ", shares.Select(s => $"{s.Key}: {s.Value}"))}");
        Assert.Equal(count, shares.Values.Sum());
        Assert.Equal(3, shares.Count);
        Assert.All(shares.Values, n => Assert.InRange(n, count / 3.0 * 0.75, count / 3.0 * 1.25));
    }

    [Fact]
    public async Task A_MaxConcurrency_of_1_holds_across_3_silos()
    {
        const int count = 30;
        await StartSilosAsync(3,
            $"--Relay:Destinations:single:Address={_destination.Url("/single")}",
            "--Relay:Destinations:single:Contract=steady",
            "--Relay:Destinations:single:MaxConcurrency=1");
        // Each request takes a while to answer, so that attempts from several silos would overlap if allowed to.
        _destination.Answer("/single", new Reply(200, "ok", Delay: TimeSpan.FromMilliseconds(100)));

        // Sent through all three silos at once: each silo's first attempts start there.
        await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
        {
            var response = await _silos[i % 3].Client.PostAsJsonAsync("/messages", new { id = $"single-{i}", destination = "single", payload = "p" });
            Assert.True(response.IsSuccessStatusCode, $"{response.StatusCode}");
        }));
        await Eventually.Until(async () => await CountAsync("SELECT count(*) FROM deliveries WHERE destination = 'single' AND status = 'Delivered'"),
            n => n == count, TimeSpan.FromSeconds(90), "every message delivered");

        var attempts = await CountBySiloAsync("SELECT silo, count(*) FROM audit WHERE destination = 'single' AND kind = 'Attempt' GROUP BY silo");
        output.WriteLine($"most in flight at the destination: {_destination.MaxInFlight("/single")}; attempts by silo: {string.Join(", ", attempts.Select(s => $"{s.Key}: {s.Value}"))}");
        Assert.Equal(1, _destination.MaxInFlight("/single"));
        // Not one silo doing it all: the permit went round.
        Assert.True(attempts.Count >= 2, "the attempts were made by one silo only");
    }

    [Fact]
    public async Task The_permit_of_a_silo_killed_during_its_attempt_comes_back_and_the_others_deliver_within_the_limit()
    {
        const int count = 12;
        await StartSilosAsync(3,
            $"--Relay:Destinations:single:Address={_destination.Url("/single")}",
            "--Relay:Destinations:single:Contract=steady",
            "--Relay:Destinations:single:Timeout=00:00:03",
            // The first attempt may wait this long for its answer: the silo still holds the permit when it is killed,
            // however slow this machine is between the request's arrival and the kill.
            "--Relay:Destinations:single:SyncTimeout=00:00:10",
            "--Relay:Destinations:single:MaxConcurrency=1");
        // The first request hangs: the second silo holds the one permit while it waits for the answer.
        _destination.Script("/single", new Reply(200, "ok", Delay: TimeSpan.FromMinutes(1)));
        _destination.Answer("/single", new Reply(200, "ok", Delay: TimeSpan.FromMilliseconds(50)));
        var hanging = _silos[1].Client.PostAsJsonAsync("/messages", new { id = "held-0", destination = "single", payload = "p" });
        await Eventually.Until(() => _destination.ReceivedAt("/single").Count == 1, what: "the first attempt in flight");

        var killedAt = Stopwatch.StartNew();
        await _silos[1].KillAsync();
        // Its sender gets no answer (the connection drops); what it got does not matter here.
        await hanging.ContinueWith(_ => { }, TaskScheduler.Default);
        // Until the membership declares it dead, calls to grains it held fail (503): the cluster's way, not the permits'.
        await Eventually.Until(DeadSilosAsync, n => n >= 1, TimeSpan.FromSeconds(60), "the killed silo declared dead");
        var survivors = new[] { _silos[0], _silos[2] };
        await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
        {
            var response = await survivors[i % 2].Client.PostAsJsonAsync("/messages", new { id = $"after-{i}", destination = "single", payload = "p" });
            Assert.True(response.IsSuccessStatusCode, $"{response.StatusCode}");
        }));

        // The permit comes back (the dead silo declared dead, or its lease and longest attempt over), and the survivors
        // deliver everything, one at a time; the hanging message too, by a survivor's scheduler.
        await Eventually.Until(async () => await CountAsync("SELECT count(*) FROM deliveries WHERE destination = 'single' AND status = 'Delivered'"),
            n => n == count + 1, TimeSpan.FromSeconds(90), "every message delivered by the two survivors");
        output.WriteLine($"all delivered {killedAt.Elapsed.TotalSeconds:0.0} s after the kill; most in flight: {_destination.MaxInFlight("/single")}");
        Assert.Equal(1, _destination.MaxInFlight("/single"));
    }

    [Fact]
    public async Task A_backlog_of_20000_is_drained_by_every_silo_in_fair_shares_within_MaxPerSecond()
    {
        const int count = 20_000, perSecond = 500;
        // Retries 10 minutes apart: the backlog waits in retry, loaded at whatever pace this machine takes; when
        // the destination is back, an operator's "retry now" makes all 20,000 due at once.
        await StartSilosAsync(3,
            $"--Relay:Destinations:backlog:Address={_destination.Url("/backlog")}",
            "--Relay:Contracts:outage:MaxAttempts=10",
            "--Relay:Contracts:outage:Delay=00:10:00",
            "--Relay:Destinations:backlog:Contract=outage",
            $"--Relay:Destinations:backlog:MaxPerSecond={perSecond}",
            "--Relay:Destinations:backlog:SyncTimeout=00:00:02");
        _destination.Answer("/backlog", Reply.Status503);

        var loading = Stopwatch.StartNew();
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 48).Select(async worker =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                var silo = _silos[i % 3];
                var response = await silo.Client.PostAsJsonAsync("/messages", new { id = $"b-{i}", destination = "backlog", payload = "p" });
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            }
        }));
        output.WriteLine($"{count} accepted into retry in {loading.Elapsed.TotalSeconds:0.0} s");

        Assert.Equal(count, await CountAsync("SELECT count(*) FROM deliveries WHERE destination = 'backlog' AND status = 'InRetry'"));
        _destination.Answer("/backlog", Reply.Ok());
        var back = DateTimeOffset.UtcNow;
        var draining = Stopwatch.StartNew();
        // One request marks all 20,000 due now: two database round trips each (the grain's state read and write), at
        // the pace of a PostgreSQL shared with 3 silos and the rest of the test run, so it gets more than the
        // client's usual 30 s.
        using (var patient = new HttpClient { BaseAddress = _silos[0].Client.BaseAddress, Timeout = TimeSpan.FromMinutes(3) })
        {
            var retryNow = await patient.PostAsJsonAsync("/messages/resubmit", new { status = "InRetry", destination = "backlog" });
            Assert.Equal(count, (int?)JsonNode.Parse(await retryNow.Content.ReadAsStringAsync())!["resubmitted"]);
            output.WriteLine($"bulk resubmit of {count} answered in {draining.Elapsed.TotalSeconds:0.0} s");
        }

        await Eventually.Until(async () => await CountAsync("SELECT count(*) FROM deliveries WHERE destination = 'backlog' AND status = 'Delivered'"),
            n => n == count, TimeSpan.FromSeconds(180), "the backlog delivered");
        var drain = draining.Elapsed;

        // Who worked the backlog: the audit names the silo of every successful attempt.
        var shares = await SharesAsync(back);
        var total = shares.Values.Sum();
        var summary = string.Join(", ", shares.Select(s => $"{s.Key}: {s.Value} ({100.0 * s.Value / total:0.0}%)"));
        var arrivals = _destination.ReceivedAt("/backlog").Where(r => r.At >= back).Select(r => r.At).Order().ToArray();
        var started = (await StartsAsync()).Order().ToArray();
        var busiestStart = Busiest(started, TimeSpan.FromSeconds(1));
        var busiestArrivals = Busiest(arrivals, TimeSpan.FromSeconds(1));
        var busiestArrivals5 = Busiest(arrivals, TimeSpan.FromSeconds(5));
        output.WriteLine($"{arrivals.Length} requests at the destination during the drain");
        output.WriteLine($"drained in {drain.TotalSeconds:0.0} s ({count / drain.TotalSeconds:0} msg/s; MaxPerSecond {perSecond}); shares {summary}");
        output.WriteLine($"busiest second of attempt starts (audit): {busiestStart}; at the destination: busiest second {busiestArrivals}, busiest 5 s {busiestArrivals5}");

        Assert.Equal(count, total);
        Assert.Equal(3, shares.Count);
        Assert.All(shares.Values, n => Assert.InRange(n, count / 3.0 * 0.75, count / 3.0 * 1.25));
        // What Relay controls: when attempts start, summed over the cluster.
        Assert.True(busiestStart <= perSecond * 1.1, $"{busiestStart} attempts started within one second; MaxPerSecond is {perSecond}");
        // What the destination sees: over the drain, no more than the limit on average. (Within one second its
        // arrivals bunch when its own process — this test's, on a shared 2-core machine — falls behind and catches up:
        // the attempts' start times above show the silos kept the pace.)
        var span = (arrivals[^1] - arrivals[0]).TotalSeconds;
        Assert.True(arrivals.Length / span <= perSecond * 1.1, $"{arrivals.Length / span:0} requests per second at the destination; MaxPerSecond is {perSecond}");
    }

    [Fact]
    public async Task Every_silo_serves_the_dashboard_of_the_whole_cluster_and_the_same_cluster_wide_gauge()
    {
        await StartSilosAsync(2, "--Relay:Telemetry:DeliveryCountsRefresh=00:00:00.200");
        _destination.Answer("/orders", Reply.Status503);
        var sent = await _silos[0].Client.PostAsJsonAsync("/messages", new { id = "gauged-1", destination = "orders", payload = "p" });
        Assert.Equal(HttpStatusCode.Accepted, sent.StatusCode);

        foreach (var silo in _silos)
        {
            // The dashboard of either silo shows both silos, active.
            var counters = await Eventually.Until(
                async () => JsonNode.Parse(await (await silo.Client.GetAsync("/dashboard/DashboardCounters")).Content.ReadAsStringAsync())!,
                c => c["hosts"]!.AsArray().Count(h => (string?)h!["status"] == "Active") == 2,
                what: $"two active silos on the dashboard of {silo.Url}");
            Assert.Equal(2, counters["hosts"]!.AsArray().Count);

            // relay_deliveries is read from the shared database: every silo reports the cluster's figure.
            await Eventually.Until(
                async () => await (await silo.Client.GetAsync("/metrics")).Content.ReadAsStringAsync(),
                text => text.Split('\n').Any(line => line.StartsWith("relay_deliveries{", StringComparison.Ordinal)
                    && line.Contains("relay_destination=\"orders\"", StringComparison.Ordinal)
                    && line.Contains("relay_delivery_status=\"InRetry\"", StringComparison.Ordinal)
                    && line.EndsWith(" 1", StringComparison.Ordinal)),
                what: $"relay_deliveries{{orders, InRetry}} 1 on {silo.Url}");
        }
    }

    [Fact]
    public async Task A_pause_made_on_one_silo_holds_the_destination_on_every_silo()
    {
        await StartSilosAsync(2, $"--Relay:Destinations:fragile:Address={_destination.Url("/fragile")}", "--Relay:Destinations:fragile:Contract=steady");
        _destination.Answer("/orders", Reply.Ok());

        var pause = await _silos[0].Client.PostAsync("/destinations/orders/pause", null);
        Assert.Equal(HttpStatusCode.OK, pause.StatusCode);
        // The other silo learns of it within a refresh of its view.
        await Eventually.Until(async () =>
        {
            var response = await _silos[1].Client.PostAsJsonAsync("/messages", new { id = $"probe-{Guid.NewGuid():N}", destination = "orders", payload = "p" });
            return (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["status"];
        }, s => s == "Pending", what: "the second silo holds the paused destination");
        var received = _destination.ReceivedAt("/orders").Count;
        var held = await _silos[1].Client.PostAsJsonAsync("/messages", new { id = "held-1", destination = "orders", payload = "held-1" });
        Assert.Equal(HttpStatusCode.Accepted, held.StatusCode);
        var heldBody = JsonNode.Parse(await held.Content.ReadAsStringAsync())!;
        Assert.Equal("Pending", (string?)heldBody["status"]);
        Assert.Equal(0, (int?)heldBody["deliveries"]![0]!["attempts"]);

        // Meanwhile the schedulers of both silos keep working: deliveries to another destination, accepted on each silo,
        // are retried three times (a second apart at the least)...
        _destination.Answer("/fragile", Reply.Status503);
        foreach (var (silo, i) in _silos.Select((silo, i) => (silo, i)))
        {
            await silo.Client.PostAsJsonAsync("/messages", new { id = $"flowing-{i}", destination = "fragile", payload = $"flowing-{i}" });
        }

        await Eventually.Until(
            () => _silos.Select((_, i) => _destination.ReceivedAt("/fragile").Count(r => r.Text == $"flowing-{i}")).Min() >= 3,
            what: "retries of another destination on both silos");
        // ...and the paused destination got nothing: held-1 is still Pending, unattempted, as both silos read it.
        Assert.Equal(received, _destination.ReceivedAt("/orders").Count);
        foreach (var silo in _silos)
        {
            var state = await ReadAsync(silo, "held-1");
            Assert.Equal("Pending", (string?)state!["status"]);
            Assert.Equal(0, (int?)state["deliveries"]![0]!["attempts"]);
        }

        await _silos[1].Client.PostAsync("/destinations/orders/resume", null);
        await Eventually.Until(async () => (string?)(await ReadAsync(_silos[0], "held-1"))?["status"], s => s == "Delivered", what: "held-1 delivered after resume");
        Assert.Single(_destination.ReceivedAt("/orders").Skip(received), r => r.Text == "held-1");
    }

    private static int Busiest(DateTimeOffset[] sorted, TimeSpan window)
    {
        var best = 0;
        var start = 0;
        for (var end = 0; end < sorted.Length; end++)
        {
            while (sorted[end] - sorted[start] >= window)
            {
                start++;
            }

            best = Math.Max(best, end - start + 1);
        }

        return best;
    }

    private async Task<long> CountAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task<Dictionary<string, long>> CountBySiloAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        var counts = new Dictionary<string, long>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            counts[reader.GetString(0)] = reader.GetInt64(1);
        }

        return counts;
    }

    private async Task<Dictionary<string, long>> SharesAsync(DateTimeOffset since)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT silo, count(*) FROM audit WHERE destination = 'backlog' AND outcome = 'Success' GROUP BY silo", connection);
        var shares = new Dictionary<string, long>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            shares[reader.GetString(0)] = reader.GetInt64(1);
        }

        return shares;
    }

    private async Task<List<(string MessageId, string Silo)>> AttemptSilosAsync()
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT message_id, silo FROM audit WHERE destination = 'orders' AND kind = 'Attempt'", connection);
        var attempts = new List<(string, string)>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            attempts.Add((reader.GetString(0), reader.GetString(1)));
        }

        return attempts;
    }

    /// <summary>When each successful attempt to the backlog started, as the silos recorded it.</summary>
    private async Task<List<DateTimeOffset>> StartsAsync()
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT at - duration_ms * interval '1 millisecond' FROM audit WHERE destination = 'backlog' AND outcome = 'Success'", connection);
        var starts = new List<DateTimeOffset>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            starts.Add(reader.GetFieldValue<DateTimeOffset>(0));
        }

        return starts;
    }

    private async Task<int> DeadSilosAsync()
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM orleansmembershiptable WHERE deploymentid = @id AND status = 6", connection);
        command.Parameters.AddWithValue("id", _clusterId);
        return Convert.ToInt32(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<JsonNode?> ReadAsync(SiloProcess silo, string id)
    {
        using var response = await silo.Client.GetAsync($"/messages/{id}");
        return response.IsSuccessStatusCode ? JsonNode.Parse(await response.Content.ReadAsStringAsync()) : null;
    }
}
