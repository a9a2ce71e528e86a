namespace Relay.EndToEnd.Tests;

/// <summary>PostgreSQL stopped under a running cluster, then started again.</summary>
public sealed class DatabaseOutageTests : IAsyncLifetime
{
    private readonly List<SiloProcess> _silos = [];
    private PostgresServer _postgres = null!;
    private TestDestination _destination = null!;

    public async Task InitializeAsync()
    {
        // A server of its own: this test stops it.
        _postgres = await PostgresServer.StartNewAsync();
        _destination = await TestDestination.StartAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var silo in _silos)
        {
            await silo.DisposeAsync();
        }

        await _destination.DisposeAsync();
        await _postgres.DisposeAsync();
    }

    [Fact]
    public async Task Requests_during_an_outage_get_503_and_work_resumes_by_itself_when_the_database_is_back()
    {
        var connectionString = await _postgres.CreateDatabaseAsync();
        string[] args =
        [
            "--Relay:Storage:Provider=AdoNet",
            $"--Relay:Storage:ConnectionString={connectionString};Timeout=3;Command Timeout=5",
            "--Relay:Storage:Migrate=true",
            "--Relay:Cluster:ClusterId=outage",
            "--Relay:Scheduler:PollInterval=00:00:00.100",
            "--Relay:Contracts:steady:MaxAttempts=1000",
            "--Relay:Contracts:steady:Delay=00:00:00.500",
            $"--Relay:Destinations:orders:Address={_destination.Url("/orders")}",
            "--Relay:Destinations:orders:Contract=steady",
            "--Relay:Samples:Enabled=false",
        ];
        _silos.Add(await SiloProcess.StartAsync(SiloProcess.NewWorkingDirectory(), args));
        _silos.Add(await SiloProcess.StartAsync(SiloProcess.NewWorkingDirectory(), args));
        _destination.Answer("/orders", Reply.Status503);
        for (var i = 0; i < 40; i++)
        {
            var response = await _silos[i % 2].Client.PostAsJsonAsync("/messages", new { id = $"before-{i}", destination = "orders", payload = "p" });
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        await _postgres.StopAsync(immediate: true);

        // During the outage: a clear 503 for every send. The server is down before the first of them (pg_ctl stop -w
        // returns once it has exited), and no acceptance can be confirmed without a commit, so none is acknowledged.
        for (var i = 0; i < 10; i++)
        {
            var silo = _silos[i % 2];
            var response = await silo.Client.PostAsJsonAsync("/messages", new { id = $"during-{i}", destination = "orders", payload = $"during-{i}" });
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.False(string.IsNullOrEmpty((string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["title"]));
        }

        using (var health = await _silos[0].Client.GetAsync("/health"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        }

        using (var read = await _silos[1].Client.GetAsync("/messages/before-1"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, read.StatusCode);
        }

        await _postgres.StartAsync();
        _destination.Answer("/orders", Reply.Ok());

        // No restart of the silos: they are still the same processes, and work resumes by itself.
        foreach (var silo in _silos)
        {
            await Eventually.Until(async () =>
            {
                using var health = await silo.Client.GetAsync("/health");
                return health.StatusCode;
            }, s => s == HttpStatusCode.OK, TimeSpan.FromSeconds(60), "healthy again");
        }

        var after = await _silos[0].Client.PostAsJsonAsync("/messages", new { id = "after-0", destination = "orders", payload = "p" });
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        foreach (var id in Enumerable.Range(0, 40).Select(i => $"before-{i}"))
        {
            await Eventually.Until(async () =>
            {
                using var response = await _silos[1].Client.GetAsync($"/messages/{id}");
                return response.IsSuccessStatusCode ? (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["status"] : null;
            }, s => s == "Delivered", TimeSpan.FromSeconds(60), $"{id} delivered");
        }

        // What was refused was not stored either: unknown, and never sent.
        for (var i = 0; i < 10; i++)
        {
            using var response = await _silos[1].Client.GetAsync($"/messages/during-{i}");
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        Assert.DoesNotContain(_destination.ReceivedAt("/orders"), r => r.Text.StartsWith("during-", StringComparison.Ordinal));
    }
}
