namespace Relay.EndToEnd.Tests;

/// <summary>Pausing a destination, and its circuit breaker.</summary>
public sealed class DestinationHealthTests(ITestOutputHelper output) : SiloFixture
{
    protected override SiloSettings Configure() => new SiloSettings
    {
        ["Relay:Destinations:fragile:FailureThreshold"] = "5",
        ["Relay:Destinations:fragile:BreakDuration"] = "00:00:01",
        ["Relay:Destinations:fragile:SyncTimeout"] = "00:00:01",
    }
        .Contract("steady", 1000, "00:00:00.100")
        .Destination("billing", Destination.Url("/bill"), "steady")
        .Destination("fragile", Destination.Url("/fragile"), "steady");

    private async Task<JsonNode> DestinationAsync(string name)
    {
        var all = JsonNode.Parse(await Silo.Client.GetStringAsync("/destinations"))!["items"]!.AsArray();
        return all.Single(d => (string?)d!["name"] == name)!;
    }

    [Fact]
    public async Task A_paused_destination_gets_nothing_new_messages_are_Pending_and_resume_releases_them()
    {
        var pause = await Silo.Client.PostAsync("/destinations/billing/pause", null);
        Assert.Equal(HttpStatusCode.OK, pause.StatusCode);
        Assert.True((bool)(await DestinationAsync("billing"))["paused"]!);

        var (response, body) = await Silo.SendAndReadAsync(new { id = "paused-1", destination = "billing", payload = "p" });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("Pending", (string?)body["status"]);
        Assert.Equal(0, (int?)body["deliveries"]![0]!["attempts"]);
        // Pausing again changes nothing, and answers the destination as GET /destinations does, counts included.
        var again = JsonNode.Parse(await (await Silo.Client.PostAsync("/destinations/billing/pause", null)).Content.ReadAsStringAsync())!;
        Assert.True((bool)again["paused"]!);
        Assert.Equal((long?)(await DestinationAsync("billing"))["pending"], (long?)again["pending"]);
        Assert.True((long?)again["pending"] >= 1, again.ToJsonString());

        // Meanwhile the schedulers keep working: a delivery to another destination is retried three times...
        Destination.Answer("/fragile", Reply.Status503);
        await Silo.SendAsync(new { id = "flowing-1", destination = "fragile", payload = "p" });
        await Eventually.Until(() => Destination.ReceivedAt("/fragile").Count >= 3, what: "retries of another destination");
        // ...and the paused one still got nothing.
        Assert.Empty(Destination.ReceivedAt("/bill"));
        Assert.Equal(1, (long?)(await DestinationAsync("billing"))["pending"]);

        await Silo.Client.PostAsync("/destinations/billing/resume", null);
        await Silo.WaitForStatusAsync("paused-1", "Delivered");
        Assert.Single(Destination.ReceivedAt("/bill"));
        Assert.False((bool)(await DestinationAsync("billing"))["paused"]!);
    }

    [Fact]
    public async Task An_open_circuit_holds_500_retries_to_a_few_probes_and_every_delivery_arrives_when_the_destination_returns()
    {
        Destination.Answer("/fragile", Reply.Status503);
        const int count = 500;
        var answers = await Task.WhenAll(Enumerable.Range(0, count).Select(i =>
            Silo.SendAsync(new { id = $"cb-{i}", destination = "fragile", payload = "p" })));
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.Accepted, a.StatusCode));

        await Eventually.Until(async () => (string?)(await DestinationAsync("fragile"))["circuit"], c => c != "Closed", what: "circuit opened");
        var openedAt = Destination.ReceivedAt("/fragile").Count;

        // While open: a new message is answered Pending at once, without a request.
        var (response, body) = await Silo.SendAndReadAsync(new { id = "cb-while-open", destination = "fragile", payload = "p" });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("Pending", (string?)body["status"]);

        // While the outage lasts, one probe per break gets through: watch three of them.
        var watch = System.Diagnostics.Stopwatch.StartNew();
        await Eventually.Until(() => Destination.ReceivedAt("/fragile").Count - openedAt >= 3, TimeSpan.FromSeconds(20), "three probes");
        var elapsed = watch.Elapsed;
        var duringOutage = Destination.ReceivedAt("/fragile").Count - openedAt;
        output.WriteLine($"{openedAt} requests before the circuit opened; {duringOutage} in the {elapsed.TotalSeconds:0.0} s after (break 1 s)");
        Assert.True(elapsed >= TimeSpan.FromSeconds(1.8), $"three probes within {elapsed}: more than one per break");
        Assert.True(duringOutage <= elapsed.TotalSeconds + 2, $"{duringOutage} requests in {elapsed.TotalSeconds:0.0} s");

        Destination.Answer("/fragile", Reply.Ok());
        await Eventually.Until(async () => (string?)(await DestinationAsync("fragile"))["circuit"], c => c == "Closed", TimeSpan.FromSeconds(20), "circuit closed by a probe");
        await Eventually.Until(async () => (long?)(await DestinationAsync("fragile"))["delivered"], n => n == count + 1, TimeSpan.FromSeconds(60), "every delivery arrived");
        var message = await Silo.GetMessageAsync("cb-7");
        Assert.NotEqual("DeadLettered", (string?)message!["status"]);
    }

    [Fact]
    public async Task An_operator_opens_and_closes_a_circuit_by_hand()
    {
        var open = await Silo.Client.PostAsJsonAsync("/destinations/billing/circuit", new { state = "Open" });
        Assert.Equal(HttpStatusCode.OK, open.StatusCode);
        var (_, body) = await Silo.SendAndReadAsync(new { id = "manual-1", destination = "billing", payload = "p" });
        Assert.Equal("Pending", (string?)body["status"]);
        Assert.Equal("Open", (string?)(await DestinationAsync("billing"))["circuit"]);

        await Silo.Client.PostAsJsonAsync("/destinations/billing/circuit", new { state = "Closed" });
        await Silo.WaitForStatusAsync("manual-1", "Delivered");

        var bad = await Silo.Client.PostAsJsonAsync("/destinations/billing/circuit", new { state = "HalfOpen" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var unknown = await Silo.Client.PostAsync("/destinations/nope/pause", null);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }
}
