using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Relay.Testing;

namespace Relay.EndToEnd.Tests;

/// <summary>
/// kill -9 of the real silo process, on each backend: nothing acknowledged is lost, and retries resume after a
/// restart. The kill lands while many writes are queued in the storage's group-commit writer.
/// </summary>
public sealed class CrashTests : IAsyncLifetime
{
    private readonly string _workDir = Path.Combine(Path.GetTempPath(), "relay-crash", Guid.NewGuid().ToString("N"));
    private TestDestination _destination = null!;
    private string? _connectionString;

    public async Task InitializeAsync() => _destination = await TestDestination.StartAsync();

    public async Task DisposeAsync()
    {
        await _destination.DisposeAsync();
        try
        {
            Directory.Delete(_workDir, recursive: true);
        }
        catch (IOException)
        {
        }
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
    public async Task A_kill_during_the_first_attempt_loses_nothing_that_was_acknowledged_as_accepted(bool postgres)
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
