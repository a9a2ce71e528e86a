using System.Diagnostics;
using System.Text;

namespace Relay.EndToEnd.Tests;

/// <summary>
/// The catalog on a real cluster: two silo processes on a private PostgreSQL. A change made through one silo is in force
/// on the other within 2 s, without a restart; deliveries under way follow it (issue 18, items 3 and 4).
/// </summary>
public sealed class CatalogClusterTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly List<SiloProcess> _silos = [];
    private TestDestination _destination = null!;
    private string _connectionString = "";
    private readonly string _clusterId = "catalog-" + Guid.NewGuid().ToString("N")[..8];

    public async Task InitializeAsync()
    {
        _connectionString = await (await PostgresServer.Shared).CreateDatabaseAsync();
        _destination = await TestDestination.StartAsync();
        // One at a time: the first applies the schema and seeds the catalog; the second joins.
        for (var i = 0; i < 2; i++)
        {
            _silos.Add(await SiloProcess.StartAsync(SiloProcess.NewWorkingDirectory(),
            [
                "--Relay:Storage:Provider=AdoNet",
                "--Relay:Storage:Invariant=Npgsql",
                $"--Relay:Storage:ConnectionString={_connectionString}",
                "--Relay:Storage:Migrate=true",
                "--Relay:Storage:MaxPoolSize=10",
                $"--Relay:Cluster:ClusterId={_clusterId}",
                "--Relay:Scheduler:PollInterval=00:00:00.100",
                "--Relay:Contracts:steady:MaxAttempts=1000",
                "--Relay:Contracts:steady:Delay=00:00:00.300",
                $"--Relay:Destinations:seed:Address={_destination.Url("/seed")}",
                "--Relay:Samples:Enabled=false",
                "--Logging:LogLevel:Default=Warning",
            ]));
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var silo in _silos)
        {
            await silo.DisposeAsync();
        }

        await _destination.DisposeAsync();
    }

    private static async Task<HttpResponseMessage> PutAsync(SiloProcess silo, string path, string json, string? ifMatch = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        return await silo.Client.SendAsync(request);
    }

    private static async Task PutOkAsync(SiloProcess silo, string path, string json)
    {
        using var response = await PutAsync(silo, path, json);
        Assert.True(response.IsSuccessStatusCode, $"PUT {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private static async Task KnownAsync(SiloProcess silo, string path, string what) =>
        await Eventually.Until(async () =>
        {
            using var response = await silo.Client.GetAsync(path);
            return response.StatusCode;
        }, s => s == HttpStatusCode.OK, TimeSpan.FromSeconds(5), what);

    private static async Task<JsonNode?> ReadAsync(SiloProcess silo, string id)
    {
        using var response = await silo.Client.GetAsync($"/messages/{Uri.EscapeDataString(id)}");
        return response.IsSuccessStatusCode ? JsonNode.Parse(await response.Content.ReadAsStringAsync()) : null;
    }

    [Fact]
    public async Task A_destination_created_on_one_silo_takes_messages_on_the_other_within_2_seconds()
    {
        _destination.Answer("/partner", Reply.Ok());
        await PutOkAsync(_silos[0], "/destinations/partner", $$"""{"Address": "{{_destination.Url("/partner")}}", "Contract": "steady"}""");
        var clock = Stopwatch.StartNew();

        // Silo 2's own view of the catalog (a read of its options, no delivery): the time until it answers the entry
        // bounds the propagation from above, whatever the load of the machine does to an attempt.
        await KnownAsync(_silos[1], "/destinations/partner", "silo 2 knows 'partner'");
        var inForce = clock.Elapsed;
        using var sent = await _silos[1].Client.PostAsJsonAsync("/messages", new { id = "partner-1", destination = "partner", payload = "p" });

        output.WriteLine($"in force on silo 2 {inForce.TotalMilliseconds:0} ms after the PUT on silo 1 answered");
        Assert.True(inForce < TimeSpan.FromSeconds(2), $"silo 2 took {inForce} to know the new destination");
        Assert.Equal(HttpStatusCode.OK, sent.StatusCode);
        Assert.Single(_destination.ReceivedAt("/partner"));
    }

    [Fact]
    public async Task Concurrent_updates_on_two_silos_with_the_same_If_Match_one_wins_one_gets_412()
    {
        using var read = await _silos[0].Client.GetAsync("/destinations/seed");
        var etag = read.Headers.ETag!.Tag;

        var answers = await Task.WhenAll(
            PutAsync(_silos[0], "/destinations/seed", $$"""{"Address": "{{_destination.Url("/one")}}"}""", etag),
            PutAsync(_silos[1], "/destinations/seed", $$"""{"Address": "{{_destination.Url("/two")}}"}""", etag));

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.PreconditionFailed], answers.Select(a => a.StatusCode).Order());
    }

    [Fact]
    public async Task A_changed_address_takes_the_next_retry_to_the_new_one()
    {
        _destination.Answer("/old", Reply.Status503);
        _destination.Answer("/new", Reply.Ok());
        await PutOkAsync(_silos[0], "/destinations/moving", $$"""{"Address": "{{_destination.Url("/old")}}", "Contract": "steady"}""");
        await KnownAsync(_silos[1], "/destinations/moving", "silo 2 knows it");
        using var sent = await _silos[1].Client.PostAsJsonAsync("/messages", new { id = "moving-1", destination = "moving", payload = "p" });
        Assert.Equal(HttpStatusCode.Accepted, sent.StatusCode);
        await Eventually.Until(() => _destination.ReceivedAt("/old").Count >= 2, what: "in retry at the old address");

        await PutOkAsync(_silos[0], "/destinations/moving", $$"""{"Address": "{{_destination.Url("/new")}}", "Contract": "steady"}""");

        await Eventually.Until(async () => (string?)(await ReadAsync(_silos[1], "moving-1"))?["status"], s => s == "Delivered", TimeSpan.FromSeconds(10), "delivered at the new address");
        Assert.Equal("moving-1", Assert.Single(_destination.ReceivedAt("/new")).Header("Idempotency-Key"));
    }

    [Fact]
    public async Task A_deleted_destination_parks_its_deliveries_in_retry_and_they_are_delivered_after_it_is_created_again()
    {
        _destination.Answer("/fragile", Reply.Status503);
        var settings = $$"""{"Address": "{{_destination.Url("/fragile")}}", "Contract": "steady"}""";
        await PutOkAsync(_silos[0], "/destinations/fragile", settings);
        await KnownAsync(_silos[1], "/destinations/fragile", "silo 2 knows it");
        var ids = Enumerable.Range(0, 6).Select(i => $"fragile-{i}").ToArray();
        foreach (var (id, i) in ids.Select((id, i) => (id, i)))
        {
            using var sent = await _silos[i % 2].Client.PostAsJsonAsync("/messages", new { id, destination = "fragile", payload = "p" });
            Assert.Equal(HttpStatusCode.Accepted, sent.StatusCode);
        }

        using (var deleted = await _silos[1].Client.DeleteAsync("/destinations/fragile"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        foreach (var id in ids)
        {
            var parked = await Eventually.Until(() => ReadAsync(_silos[0], id), m => (string?)m?["status"] == "DeadLettered", TimeSpan.FromSeconds(10), $"{id} parked");
            Assert.Contains("no longer configured", (string?)parked!["deliveries"]![0]!["lastError"], StringComparison.Ordinal);
        }

        _destination.Answer("/fragile", Reply.Ok());
        await PutOkAsync(_silos[0], "/destinations/fragile", settings);
        await KnownAsync(_silos[1], "/destinations/fragile", "silo 2 knows it again");
        using (var resubmit = await _silos[1].Client.PostAsJsonAsync("/messages/resubmit", new { status = "DeadLettered", destination = "fragile" }))
        {
            Assert.True(resubmit.IsSuccessStatusCode, await resubmit.Content.ReadAsStringAsync());
        }

        foreach (var id in ids)
        {
            await Eventually.Until(() => ReadAsync(_silos[1], id), m => (string?)m?["status"] == "Delivered", TimeSpan.FromSeconds(20), $"{id} delivered");
        }
    }
}
