using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Relay.Testing;
using Xunit.Abstractions;

namespace Relay.EndToEnd.Tests;

/// <summary>Pausing a destination, and its circuit breaker.</summary>
public sealed class DestinationHealthTests(ITestOutputHelper output) : IAsyncLifetime
{
    private TestDestination _destination = null!;
    private TestSilo _silo = null!;

    public async Task InitializeAsync()
    {
        _destination = await TestDestination.StartAsync();
        _silo = await TestSilo.StartAsync(new Dictionary<string, string?>
        {
            ["Relay:Contracts:steady:MaxAttempts"] = "1000",
            ["Relay:Contracts:steady:Delay"] = "00:00:00.100",
            ["Relay:Destinations:billing:Address"] = _destination.Url("/bill"),
            ["Relay:Destinations:billing:Contract"] = "steady",
            ["Relay:Destinations:fragile:Address"] = _destination.Url("/fragile"),
            ["Relay:Destinations:fragile:Contract"] = "steady",
            ["Relay:Destinations:fragile:FailureThreshold"] = "5",
            ["Relay:Destinations:fragile:BreakDuration"] = "00:00:01",
            ["Relay:Destinations:fragile:SyncTimeout"] = "00:00:01",
        });
    }

    public async Task DisposeAsync()
    {
        await _silo.DisposeAsync();
        await _destination.DisposeAsync();
    }

    private async Task<JsonNode> DestinationAsync(string name)
    {
        var all = JsonNode.Parse(await _silo.Client.GetStringAsync("/destinations"))!["items"]!.AsArray();
        return all.Single(d => (string?)d!["name"] == name)!;
    }

    [Fact]
    public async Task A_paused_destination_gets_nothing_new_messages_are_Pending_and_resume_releases_them()
    {
        var pause = await _silo.Client.PostAsync("/destinations/billing/pause", null);
        Assert.Equal(HttpStatusCode.OK, pause.StatusCode);
        Assert.True((bool)(await DestinationAsync("billing"))["paused"]!);

        var (response, body) = await _silo.SendAndReadAsync(new { id = "paused-1", destination = "billing", payload = "p" });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("Pending", (string?)body["status"]);
        Assert.Equal(0, (int?)body["deliveries"]![0]!["attempts"]);
        // Pausing again changes nothing, and answers the destination as GET /destinations does, counts included.
        var again = JsonNode.Parse(await (await _silo.Client.PostAsync("/destinations/billing/pause", null)).Content.ReadAsStringAsync())!;
        Assert.True((bool)again["paused"]!);
        Assert.Equal((long?)(await DestinationAsync("billing"))["pending"], (long?)again["pending"]);
        Assert.True((long?)again["pending"] >= 1, again.ToJsonString());

        // Meanwhile the schedulers keep working: a delivery to another destination is retried three times...
        _destination.Answer("/fragile", Reply.Status503);
        await _silo.SendAsync(new { id = "flowing-1", destination = "fragile", payload = "p" });
        await Eventually.Until(() => _destination.ReceivedAt("/fragile").Count >= 3, what: "retries of another destination");
        // ...and the paused one still got nothing.
        Assert.Empty(_destination.ReceivedAt("/bill"));
        Assert.Equal(1, (long?)(await DestinationAsync("billing"))["pending"]);

        await _silo.Client.PostAsync("/destinations/billing/resume", null);
        await _silo.WaitForStatusAsync("paused-1", "Delivered");
        Assert.Single(_destination.ReceivedAt("/bill"));
        Assert.False((bool)(await DestinationAsync("billing"))["paused"]!);
    }

    [Fact]
    public async Task An_open_circuit_holds_500_retries_to_a_few_probes_and_every_delivery_arrives_when_the_destination_returns()
    {
        _destination.Answer("/fragile", Reply.Status503);
        const int count = 500;
        var answers = await Task.WhenAll(Enumerable.Range(0, count).Select(i =>
            _silo.SendAsync(new { id = $"cb-{i}", destination = "fragile", payload = "p" })));
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.Accepted, a.StatusCode));

        await Eventually.Until(async () => (string?)(await DestinationAsync("fragile"))["circuit"], c => c != "Closed", what: "circuit opened");
        var openedAt = _destination.ReceivedAt("/fragile").Count;

        // While open: a new message is answered Pending at once, without a request.
        var (response, body) = await _silo.SendAndReadAsync(new { id = "cb-while-open", destination = "fragile", payload = "p" });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("Pending", (string?)body["status"]);

        // While the outage lasts, one probe per break gets through: watch three of them.
        var watch = System.Diagnostics.Stopwatch.StartNew();
        await Eventually.Until(() => _destination.ReceivedAt("/fragile").Count - openedAt >= 3, TimeSpan.FromSeconds(20), "three probes");
        var elapsed = watch.Elapsed;
        var duringOutage = _destination.ReceivedAt("/fragile").Count - openedAt;
        output.WriteLine($"{openedAt} requests before the circuit opened; {duringOutage} in the {elapsed.TotalSeconds:0.0} s after (break 1 s)");
        Assert.True(elapsed >= TimeSpan.FromSeconds(1.8), $"three probes within {elapsed}: more than one per break");
        Assert.True(duringOutage <= elapsed.TotalSeconds + 2, $"{duringOutage} requests in {elapsed.TotalSeconds:0.0} s");

        _destination.Answer("/fragile", Reply.Ok());
        await Eventually.Until(async () => (string?)(await DestinationAsync("fragile"))["circuit"], c => c == "Closed", TimeSpan.FromSeconds(20), "circuit closed by a probe");
        await Eventually.Until(async () => (long?)(await DestinationAsync("fragile"))["delivered"], n => n == count + 1, TimeSpan.FromSeconds(60), "every delivery arrived");
        var message = await _silo.GetMessageAsync("cb-7");
        Assert.NotEqual("DeadLettered", (string?)message!["status"]);
    }

    [Fact]
    public async Task An_operator_opens_and_closes_a_circuit_by_hand()
    {
        var open = await _silo.Client.PostAsJsonAsync("/destinations/billing/circuit", new { state = "Open" });
        Assert.Equal(HttpStatusCode.OK, open.StatusCode);
        var (_, body) = await _silo.SendAndReadAsync(new { id = "manual-1", destination = "billing", payload = "p" });
        Assert.Equal("Pending", (string?)body["status"]);
        Assert.Equal("Open", (string?)(await DestinationAsync("billing"))["circuit"]);

        await _silo.Client.PostAsJsonAsync("/destinations/billing/circuit", new { state = "Closed" });
        await _silo.WaitForStatusAsync("manual-1", "Delivered");

        var bad = await _silo.Client.PostAsJsonAsync("/destinations/billing/circuit", new { state = "HalfOpen" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var unknown = await _silo.Client.PostAsync("/destinations/nope/pause", null);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }
}
