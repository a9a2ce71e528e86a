using System.Text.Json;

namespace Relay.Core.Tests.Topics;

public class TopicOptionsTests
{
    private static RelayOptions Options(TopicOptions topic) => new()
    {
        Destinations =
        {
            ["billing"] = new DestinationOptions { Address = "http://127.0.0.1:9000/bill" },
            ["shipping"] = new DestinationOptions { Address = "http://127.0.0.1:9001/ship" },
        },
        Topics = { ["orders"] = topic },
    };

    private static IReadOnlyList<string> Errors(TopicOptions topic) => 
        RelayOptionsValidator.Validate(Options(topic), []).Where(e => e.StartsWith("Relay:Topics:", StringComparison.Ordinal)).ToList();

    [Fact]
    public void A_malformed_filter_is_refused_at_start_up_naming_its_key_and_column()
    {
        var topic = new TopicOptions { Subscriptions = [new() { Destination = "billing", Filter = "region = 'eu' AND amount >" }] };

        var error = Assert.Single(Errors(topic));

        Assert.StartsWith("Relay:Topics:orders:Subscriptions:0:Filter is not a valid filter at column 27: unexpected end of input", error, StringComparison.Ordinal);
        Assert.EndsWith(". The filter: region = 'eu' AND amount >", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_subscription_naming_an_unknown_or_no_destination_is_refused_by_its_key()
    {
        var topic = new TopicOptions { Subscriptions = [new() { Destination = "billing" }, new() { Destination = "shiping" }, new() { Filter = "a = 1" }] };

        Assert.Equal(
        [
            "Relay:Topics:orders:Subscriptions:1:Destination names the unknown destination 'shiping' (known: billing, shipping).",
            "Relay:Topics:orders:Subscriptions:2:Destination is missing; a subscription names a destination.",
        ], Errors(topic));
    }

    [Fact]
    public void Valid_filters_and_subscriptions_without_one_pass()
    {
        var topic = new TopicOptions
        {
            Subscriptions = [new() { Destination = "billing", Filter = "amount > 100" }, new() { Destination = "shipping" }, new() { Destination = "shipping", Filter = "" }],
        };

        Assert.Empty(Errors(topic));
    }

    [Theory]
    [InlineData("""["billing", "shipping"]""", """["billing","shipping"]""")]
    [InlineData("""{"subscriptions": [{"destination": "billing", "filter": "a = 1"}, {"destination": "shipping"}]}""",
        """{"subscriptions":[{"destination":"billing","filter":"a = 1"},{"destination":"shipping"}]}""")]
    [InlineData("""{"Subscriptions": [{"Destination": "billing", "Filter": "a = 1"}]}""",
        """{"subscriptions":[{"destination":"billing","filter":"a = 1"}]}""")]
    public void A_topic_reads_from_JSON_in_either_shape_and_writes_back_in_its_own(string json, string written)
    {
        var topic = JsonSerializer.Deserialize<TopicOptions>(json)!;

        Assert.Equal(written, JsonSerializer.Serialize(topic));
        Assert.Equal("billing", topic.Subscriptions[0].Destination);
    }

    [Theory]
    [InlineData("""{"subscription": []}""")]
    [InlineData("""[1, 2]""")]
    [InlineData("\"billing\"")]
    public void A_topic_in_another_JSON_shape_is_refused(string json) =>
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<TopicOptions>(json));

    [Fact]
    public void A_topic_routes_to_the_subscribers_whose_filter_matches_each_once_in_order()
    {
        var topic = CompiledTopic.Compile("orders", new TopicOptions
        {
            Subscriptions =
            [
                new() { Destination = "eu", Filter = "region = 'eu'" },
                new() { Destination = "all" },
                new() { Destination = "big", Filter = "amount > 100" },
                new() { Destination = "eu", Filter = "priority = 'high'" },
            ],
        });

        IReadOnlyList<string> Route(string payload, params (string, string)[] headers) =>
            topic.Route(new MessageProperties(headers.ToDictionary(h => h.Item1, h => h.Item2), Encoding.UTF8.GetBytes(payload), null, null));

        Assert.Equal(["eu", "all", "big"], Route("""{"region": "eu", "amount": 200}"""));
        Assert.Equal(["all"], Route("""{"region": "us", "amount": 50}"""));
        // eu takes it by its second subscription: it comes where that one is.
        Assert.Equal(["all", "eu"], Route("""{"region": "us"}""", ("priority", "high")));
        Assert.Equal(["eu", "all", "big"], Route("""{"amount": 101}""", ("region", "eu"), ("priority", "high")));
    }

    [Fact]
    public void The_payload_is_read_once_for_all_filters_and_not_at_all_when_headers_answer_them()
    {
        var topic = CompiledTopic.Compile("orders", new TopicOptions
        {
            Subscriptions = Enumerable.Range(0, 50).Select(i => new SubscriptionOptions { Destination = $"d{i}", Filter = $"region = 'r{i}' OR amount > {i}" }).ToList(),
        });
        var fromJson = new MessageProperties(new Dictionary<string, string>(), Encoding.UTF8.GetBytes("""{"region": "r7", "amount": 3}"""), null, null);
        var fromHeaders = new MessageProperties(new Dictionary<string, string> { ["region"] = "r7", ["amount"] = "3" }, Encoding.UTF8.GetBytes("{}"), null, null);

        Assert.Equal(["d0", "d1", "d2", "d7"], topic.Route(fromJson));
        Assert.Equal(1, fromJson.PayloadReads);
        Assert.Equal(["d0", "d1", "d2", "d7"], topic.Route(fromHeaders));
        Assert.Equal(0, fromHeaders.PayloadReads);
    }
}
