using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Npgsql;
using Relay.Testing;
using Xunit.Abstractions;

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
