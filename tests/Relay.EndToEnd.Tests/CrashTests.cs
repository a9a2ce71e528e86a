namespace Relay.EndToEnd.Tests;

/// <summary>
/// kill -9 of the real silo process, on each backend: nothing acknowledged is lost, and retries resume after a
/// restart. The kill lands while many writes are queued in the storage's group-commit writer.
/// </summary>
public sealed class CrashTests : IAsyncLifetime
{
    private readonly string _workDir = TempFolder.Create("relay-crash-");
    private TestDestination _destination = null!;
    private string? _connectionString;

    public async Task InitializeAsync() => _destination = await TestDestination.StartAsync();

    public async Task DisposeAsync()
    {
        await _destination.DisposeAsync();
        TempFolder.Delete(_workDir);
    }

    private async Task UseBackendAsync(bool postgres)
    {
        if (postgres)
        {
            _connectionString = await (await PostgresServer.Shared).CreateDatabaseAsync();
        }
    }

    private string[] Args() =>
    [
        .. _connectionString is null
            ? Array.Empty<string>()
            :
            [
                "--Relay:Storage:Provider=AdoNet",
                "--Relay:Storage:Invariant=Npgsql",
                $"--Relay:Storage:ConnectionString={_connectionString}",
                "--Relay:Storage:Migrate=true",
                "--Relay:Cluster:ClusterId=crash",
                // The restarted silo declares the killed one dead quickly (docs/OPERATIONS.md explains the settings).
                "--Relay:Cluster:Membership:ProbeTimeout=00:00:01",
                "--Relay:Cluster:Membership:NumMissedProbesLimit=2",
                "--Relay:Cluster:Membership:IAmAliveTablePublishTimeout=00:00:05",
                "--Relay:Cluster:Membership:TableRefreshTimeout=00:00:02",
            ],
        "--Relay:Scheduler:PollInterval=00:00:00.100",
        "--Relay:Contracts:steady:MaxAttempts=100",
        "--Relay:Contracts:steady:Delay=00:00:00.500",
        $"--Relay:Destinations:orders:Address={_destination.Url("/orders")}",
        "--Relay:Destinations:orders:Contract=steady",
        "--Relay:Destinations:orders:SyncTimeout=00:00:01",
        $"--Relay:Destinations:fine:Address={_destination.Url("/fine")}",
        "--Relay:Destinations:fine:Contract=steady",
        $"--Relay:Destinations:slow:Address={_destination.Url("/slow")}",
        "--Relay:Destinations:slow:Contract=steady",
        "--Relay:Destinations:slow:SyncTimeout=00:00:05",
        "--Relay:Scheduler:RecoveryGrace=00:00:02",
        "--Relay:Samples:Enabled=false",
        "--Logging:LogLevel:Default=Warning",
    ];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task After_kill_9_and_a_restart_every_accepted_delivery_is_attempted_again_and_delivered(bool postgres)
    {
        await UseBackendAsync(postgres);
        _destination.Answer("/orders", Reply.Status503);
        const int count = 200;
        var accepted = new List<string>();

        await using (var silo = await SiloProcess.StartAsync(_workDir, Args()))
        {
            var sends = Enumerable.Range(0, count).Select(async i =>
            {
                var response = await silo.Client.PostAsJsonAsync("/messages", new { id = $"crash-{i}", destination = "orders", payload = $"order {i}" });
                return (Id: $"crash-{i}", response.StatusCode);
            });
            foreach (var (id, status) in await Task.WhenAll(sends))
            {
                Assert.Equal(HttpStatusCode.Accepted, status);
                accepted.Add(id);
            }

            // Retries are running when the process dies.
            await Eventually.Until(() => _destination.ReceivedAt("/orders").Count >= 2 * count, what: "second attempts under way");
            await silo.KillAsync();
        }

        _destination.Answer("/orders", Reply.Ok());
        var before = _destination.ReceivedAt("/orders").Count;
        await using var restarted = await SiloProcess.StartAsync(_workDir, Args());

        foreach (var id in accepted)
        {
            await Eventually.Until(async () => await StatusAsync(restarted, id), s => s == "Delivered", TimeSpan.FromSeconds(60), $"{id} delivered after restart");
        }

        var delivered = _destination.ReceivedAt("/orders").Skip(before).Where(r => r.Text.StartsWith("order", StringComparison.Ordinal)).ToList();
        Assert.Equal(accepted.Order(), delivered.Select(r => r.Header("Idempotency-Key")!).Distinct().Order());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_send_left_unanswered_by_a_kill_during_its_first_attempt_is_delivered_after_the_restart(bool postgres)
    {
        await UseBackendAsync(postgres);
        // The destination holds the first attempt open; the sender is waiting for its answer when the silo dies.
        _destination.Answer("/slow", new Reply(200, "late", Delay: TimeSpan.FromSeconds(20)));

        await using (var silo = await SiloProcess.StartAsync(_workDir, Args()))
        {
            var send = silo.Client.PostAsJsonAsync("/messages", new { id = "mid-attempt", destination = "slow", payload = "p" });
            await Eventually.Until(() => _destination.ReceivedAt("/slow").Count >= 1, what: "first attempt started");
            await silo.KillAsync();
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => send);
        }

        _destination.Answer("/slow", Reply.Ok());
        await using var restarted = await SiloProcess.StartAsync(_workDir, Args());

        // The message was stored before the attempt: the restarted silo attempts it again by itself.
        await Eventually.Until(async () => await StatusAsync(restarted, "mid-attempt"), s => s == "Delivered", TimeSpan.FromSeconds(90), "mid-attempt delivered");
        var attempts = _destination.ReceivedAt("/slow");
        Assert.Equal(2, attempts.Count);
        Assert.All(attempts, a => Assert.Equal("mid-attempt", a.Header("Idempotency-Key")));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Every_send_acknowledged_before_a_kill_9_is_delivered_after_the_restart(bool postgres)
    {
        await UseBackendAsync(postgres);
        // Both acknowledgements: 202 (stored, its first attempt failed) to orders, 200 (delivered at once) to fine.
        _destination.Answer("/orders", Reply.Status503);
        _destination.Answer("/fine", Reply.Ok());
        const int senders = 8;
        var acknowledged = new List<string>();
        var unexpected = new List<string>();
        var killing = 0;

        await using (var silo = await SiloProcess.StartAsync(_workDir, Args()))
        {
            // Senders that never pause: the kill lands while sends are in flight, their writes queued in the storage
            // (each sender's last send is left unanswered).
            async Task SendUntilKilledAsync(int sender)
            {
                for (var n = 0; ; n++)
                {
                    var id = $"ack-{sender}-{n}";
                    try
                    {
                        using var response = await silo.Client.PostAsJsonAsync("/messages", new { id, destination = n % 2 == 0 ? "orders" : "fine", payload = id });
                        lock (acknowledged)
                        {
                            if (response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Accepted)
                            {
                                acknowledged.Add(id);
                            }
                            else
                            {
                                unexpected.Add($"{id}: {(int)response.StatusCode}");
                            }
                        }
                    }
                    catch (HttpRequestException) when (Volatile.Read(ref killing) != 0)
                    {
                        return;
                    }
                }
            }

            var sending = Enumerable.Range(0, senders).Select(SendUntilKilledAsync).ToList();
            int Acknowledged()
            {
                lock (acknowledged)
                {
                    return acknowledged.Count;
                }
            }

            await Eventually.Until(() => Task.FromResult(Acknowledged()), n => n >= 100 || sending.All(s => s.IsCompleted), TimeSpan.FromSeconds(60), "100 sends acknowledged");
            Assert.False(sending.Any(s => s.IsCompleted), $"a sender stopped before the kill: {string.Join("; ", sending.Where(s => s.IsFaulted).Select(s => s.Exception!.InnerException!.Message))}; unexpected: {string.Join(", ", unexpected.Take(5))}");
            Volatile.Write(ref killing, 1);
            await silo.KillAsync();
            await Task.WhenAll(sending);
        }

        Assert.Empty(unexpected);
        _destination.Answer("/orders", Reply.Ok());
        await using var restarted = await SiloProcess.StartAsync(_workDir, Args());

        // Stored, every one of them, as the restarted silo reads its storage...
        var unknown = new List<string>();
        foreach (var id in acknowledged)
        {
            using var response = await restarted.Client.GetAsync($"/messages/{id}");
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                unknown.Add(id);
            }
        }

        Assert.True(unknown.Count == 0, $"{unknown.Count} of {acknowledged.Count} sends acknowledged before the kill are unknown after the restart: {string.Join(", ", unknown.Take(10))}");
        // ...and delivered.
        foreach (var id in acknowledged)
        {
            await Eventually.Until(async () => await StatusAsync(restarted, id), s => s == "Delivered", TimeSpan.FromSeconds(60), $"{id}, acknowledged before the kill, delivered after the restart");
        }
    }

    private static async Task<string?> StatusAsync(SiloProcess silo, string id)
    {
        using var response = await silo.Client.GetAsync($"/messages/{id}");
        if (!response.IsSuccessStatusCode)
        {
            return null;
        }

        return (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["status"];
    }
}
