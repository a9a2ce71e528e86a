namespace Relay.Silo.Tests;

/// <summary>
/// One silo with seven settled messages, sent in this order: list-1 ok, list-2 bad, list-3 ok, list-4 to the topic
/// <c>mixed</c> (ok delivers, bad dead-letters), list-5 ok, list-6 bad, list-7 ok. <c>ok</c> answers 200,
/// <c>bad</c> answers 400 (non-retryable: dead-lettered at once).
/// </summary>
public sealed class ListingSilo : SiloFixture
{
    public static readonly string[] Sent = ["list-1", "list-2", "list-3", "list-4", "list-5", "list-6", "list-7"];

    protected override SiloSettings Configure()
    {
        Destination.Answer("/ok", Reply.Ok());
        Destination.Answer("/bad", new Reply(400, "rejected"));
        return new SiloSettings
        {
            ["Relay:Topics:mixed:0"] = "ok",
            ["Relay:Topics:mixed:1"] = "bad",
        }
            .Destination("ok", Destination.Url("/ok"))
            .Destination("bad", Destination.Url("/bad"));
    }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        (string Id, object Message, string Status)[] sends =
        [
            ("list-1", new { id = "list-1", destination = "ok", payload = "1" }, "Delivered"),
            ("list-2", new { id = "list-2", destination = "bad", payload = "2" }, "DeadLettered"),
            ("list-3", new { id = "list-3", destination = "ok", payload = "3" }, "Delivered"),
            ("list-4", new { id = "list-4", topic = "mixed", payload = "4" }, "DeadLettered"),
            ("list-5", new { id = "list-5", destination = "ok", payload = "5" }, "Delivered"),
            ("list-6", new { id = "list-6", destination = "bad", payload = "6" }, "DeadLettered"),
            ("list-7", new { id = "list-7", destination = "ok", payload = "7" }, "Delivered"),
        ];
        foreach (var (id, message, status) in sends)
        {
            var (response, body) = await Silo.SendAndReadAsync(message);
            if (response.StatusCode != HttpStatusCode.OK || (string?)body["status"] != status)
            {
                throw new InvalidOperationException($"Setup: {id} answered {(int)response.StatusCode} {body.ToJsonString()}, expected {status}.");
            }
        }
    }
}

/// <summary><c>GET /messages</c>: newest first, filtered by any delivery's status and destination, paged by cursor.</summary>
public sealed class ListingTests(ListingSilo fixture) : IClassFixture<ListingSilo>
{
    private TestSilo Silo => fixture.Silo;

    [Fact]
    public async Task Lists_every_message_newest_first()
    {
        var page = await GetPageAsync("/messages");

        Assert.Equal(ListingSilo.Sent.Reverse(), Ids(page));
        Assert.Null((string?)page["next"]);
        var acceptedAt = page["items"]!.AsArray()
            .Select(i => DateTimeOffset.Parse((string)i!["acceptedAt"]!, CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(acceptedAt.OrderByDescending(a => a), acceptedAt);
    }

    [Fact]
    public async Task Items_carry_deliveries_and_status_but_no_attempts_trail()
    {
        var page = await GetPageAsync("/messages");

        foreach (var item in page["items"]!.AsArray().Select(i => i!.AsObject()))
        {
            Assert.False(item.ContainsKey("attempts"), $"an item carries the audit trail: {item.ToJsonString()}");
            Assert.NotEmpty(item["deliveries"]!.AsArray());
        }

        var topic = page["items"]!.AsArray().Single(i => (string?)i!["id"] == "list-4")!;
        Assert.Equal("DeadLettered", (string?)topic["status"]);
        var deliveries = topic["deliveries"]!.AsArray().ToDictionary(d => (string)d!["destination"]!, d => (string?)d!["status"]);
        Assert.Equal(new Dictionary<string, string?> { ["ok"] = "Delivered", ["bad"] = "DeadLettered" }, deliveries);
    }

    [Theory]
    [InlineData("status=DeadLettered", new[] { "list-6", "list-4", "list-2" })]
    [InlineData("status=deadlettered", new[] { "list-6", "list-4", "list-2" })]
    [InlineData("status=Delivered", new[] { "list-7", "list-5", "list-4", "list-3", "list-1" })]
    [InlineData("status=InRetry", new string[0])]
    [InlineData("destination=ok", new[] { "list-7", "list-5", "list-4", "list-3", "list-1" })]
    [InlineData("destination=bad", new[] { "list-6", "list-4", "list-2" })]
    [InlineData("destination=unknown", new string[0])]
    [InlineData("status=DeadLettered&destination=bad", new[] { "list-6", "list-4", "list-2" })]
    [InlineData("status=Delivered&destination=ok", new[] { "list-7", "list-5", "list-4", "list-3", "list-1" })]
    // Both filters hold for one delivery: the topic message's dead letter is at bad, not at ok.
    [InlineData("status=DeadLettered&destination=ok", new string[0])]
    [InlineData("status=Delivered&destination=bad", new string[0])]
    public async Task A_filter_matches_a_message_by_any_of_its_deliveries(string query, string[] expected)
    {
        var page = await GetPageAsync("/messages?" + query);

        Assert.Equal(expected, Ids(page));
        Assert.Null((string?)page["next"]);
    }

    [Theory]
    [InlineData("", 2, new[] { 2, 2, 2, 1 })]
    [InlineData("", 3, new[] { 3, 3, 1 })]
    [InlineData("", 7, new[] { 7 })]
    [InlineData("", 1, new[] { 1, 1, 1, 1, 1, 1, 1 })]
    [InlineData("destination=ok&", 2, new[] { 2, 2, 1 })]
    [InlineData("status=DeadLettered&", 3, new[] { 3 })]
    [InlineData("status=DeadLettered&destination=bad&", 2, new[] { 2, 1 })]
    public async Task Paging_with_the_next_cursor_yields_every_message_once_in_order(string filter, int limit, int[] pageSizes)
    {
        var all = Ids(await GetPageAsync($"/messages?{filter}limit=1000"));
        var seen = new List<string>();
        var sizes = new List<int>();
        string? cursor = null;
        do
        {
            var url = $"/messages?{filter}limit={limit}" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor));
            var page = await GetPageAsync(url);
            var ids = Ids(page);
            sizes.Add(ids.Count);
            seen.AddRange(ids);
            cursor = (string?)page["next"];
            Assert.True(sizes.Count <= 10, "the cursor never ends");
        }
        while (cursor is not null);

        Assert.Equal(all, seen);
        Assert.Equal(pageSizes, sizes);
    }

    private async Task<JsonNode> GetPageAsync(string url)
    {
        using var response = await Silo.Client.GetAsync(url);
        var body = await TestSilo.ReadAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {url}: {(int)response.StatusCode} {body.ToJsonString()}");
        return body;
    }

    private static List<string> Ids(JsonNode page) =>
        page["items"]!.AsArray().Select(i => (string)i!["id"]!).ToList();
}
