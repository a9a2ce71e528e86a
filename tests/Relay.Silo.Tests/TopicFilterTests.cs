using System.Net;
using System.Text.Json.Nodes;

namespace Relay.Silo.Tests;

/// <summary>
/// One silo whose topic <c>orders</c> has filtered subscribers, one without a filter, and a topic whose only
/// subscriber filters for what never comes; all behind one recording destination, a path per subscriber.
/// </summary>
public sealed class TopicFilterSilo : IAsyncLifetime
{
    public TestDestination Destination { get; private set; } = null!;

    public TestSilo Silo { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Destination = await TestDestination.StartAsync();
        Silo = await TestSilo.StartAsync(new SiloSettings
        {
            ["Relay:Topics:orders:Subscriptions:0:Destination"] = "eu",
            ["Relay:Topics:orders:Subscriptions:0:Filter"] = "region = 'eu'",
            ["Relay:Topics:orders:Subscriptions:1:Destination"] = "big",
            ["Relay:Topics:orders:Subscriptions:1:Filter"] = "amount > 100 AND kind IN ('order', 'refund')",
            ["Relay:Topics:orders:Subscriptions:2:Destination"] = "all",
            ["Relay:Topics:orders:Subscriptions:3:Destination"] = "urgent",
            ["Relay:Topics:orders:Subscriptions:3:Filter"] = "EXISTS(X-Priority) AND customer LIKE 'c-1%'",
            ["Relay:Topics:mars:Subscriptions:0:Destination"] = "eu",
            ["Relay:Topics:mars:Subscriptions:0:Filter"] = "region = 'mars'",
            ["Relay:Topics:plain:0"] = "eu",
            ["Relay:Topics:plain:1"] = "big",
        }
            .Destination("eu", Destination.Url("/eu"))
            .Destination("big", Destination.Url("/big"))
            .Destination("all", Destination.Url("/all"))
            .Destination("urgent", Destination.Url("/urgent")));
    }

    public async Task DisposeAsync()
    {
        await Silo.DisposeAsync();
        await Destination.DisposeAsync();
    }
}

/// <summary>
/// Subscription filters through a real silo: a message sent to a topic goes to the subscribers whose filter it
/// matches, by header and by JSON field, and the answer lists them (docs/TOPICS.md, docs/API.md).
/// </summary>
public sealed class TopicFilterTests(TopicFilterSilo fixture) : IClassFixture<TopicFilterSilo>
{
    private TestSilo Silo => fixture.Silo;

    private int Received(string path, string id) => fixture.Destination.ReceivedAt(path).Count(r => r.Header("Idempotency-Key") == id);

    private static string[] Subscribers(JsonNode body) => body["subscribers"]!.AsArray().Select(n => (string)n!).ToArray();

    [Fact]
    public async Task A_filter_routes_by_header()
    {
        var (response, body) = await Silo.SendAndReadAsync(new
        {
            id = "by-header", topic = "orders", payload = "not JSON at all",
            headers = new Dictionary<string, string> { ["region"] = "eu", ["X-Priority"] = "high", ["customer"] = "c-17" },
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["eu", "all", "urgent"], Subscribers(body));
        Assert.Equal(["eu", "all", "urgent"], body["deliveries"]!.AsArray().Select(d => (string)d!["destination"]!));
        Assert.Equal("Delivered", (string?)body["status"]);
        Assert.Equal("orders", (string?)body["topic"]);
        Assert.Equal(1, Received("/eu", "by-header"));
        Assert.Equal(1, Received("/all", "by-header"));
        Assert.Equal(1, Received("/urgent", "by-header"));
        Assert.Equal(0, Received("/big", "by-header"));
    }

    [Fact]
    public async Task A_filter_routes_by_JSON_field_and_the_stored_message_lists_the_same_subscribers()
    {
        var (response, body) = await Silo.SendAndReadAsync(new
        {
            id = "by-json", topic = "orders", contentType = "application/json",
            payload = """{"region": "us", "amount": 250, "kind": "order", "customer": "c-100"}""",
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // urgent wants a X-Priority header as well: the customer alone does not do.
        Assert.Equal(["big", "all"], Subscribers(body));
        Assert.Equal(1, Received("/big", "by-json"));
        Assert.Equal(1, Received("/all", "by-json"));
        Assert.Equal(0, Received("/eu", "by-json"));
        Assert.Equal(0, Received("/urgent", "by-json"));

        // A read lists the deliveries, and so the subscribers, by destination name.
        var stored = await Silo.GetMessageAsync("by-json");
        Assert.Equal(["all", "big"], Subscribers(stored!));
    }

    [Fact]
    public async Task A_JSON_string_compared_with_a_number_takes_no_filtered_subscriber()
    {
        var (_, body) = await Silo.SendAndReadAsync(new
        {
            id = "string-amount", topic = "orders", payload = """{"amount": "250", "kind": "order"}""",
        });

        Assert.Equal(["all"], Subscribers(body));
    }

    [Fact]
    public async Task A_message_no_filter_matches_is_answered_200_with_no_subscriber_and_nothing_is_stored_or_sent()
    {
        var (response, body) = await Silo.SendAndReadAsync(new
        {
            id = "to-nobody", topic = "mars", payload = """{"region": "eu"}""", correlationId = "req-1",
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Delivered", (string?)body["status"]);
        Assert.Empty(Subscribers(body));
        Assert.Empty(body["deliveries"]!.AsArray());
        Assert.Equal("mars", (string?)body["topic"]);
        Assert.Equal("req-1", (string?)body["correlationId"]);
        Assert.Equal("to-nobody", (string?)body["id"]);
        Assert.Null(await Silo.GetMessageAsync("to-nobody"));
        Assert.Equal(0, Received("/eu", "to-nobody"));

        // Sent again, it is routed again: the same answer.
        var (again, againBody) = await Silo.SendAndReadAsync(new
        {
            id = "to-nobody", topic = "mars", payload = """{"region": "eu"}""", correlationId = "req-1",
        });
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Empty(Subscribers(againBody));
    }

    [Fact]
    public async Task A_plain_list_topic_takes_every_message_and_the_answer_lists_its_subscribers()
    {
        var (response, body) = await Silo.SendAndReadAsync(new { id = "plain-1", topic = "plain", payload = "x" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["eu", "big"], Subscribers(body));
        Assert.Equal(1, Received("/eu", "plain-1"));
        Assert.Equal(1, Received("/big", "plain-1"));
    }

    [Fact]
    public async Task A_message_to_a_destination_has_no_subscribers_field()
    {
        var (response, body) = await Silo.SendAndReadAsync(new { id = "direct-1", destination = "eu", payload = "x" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(body["subscribers"]);
        Assert.Null(body["topic"]);
    }
}
