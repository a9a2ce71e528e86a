namespace Relay.Core.Tests.Messages;

/// <summary>A destination's configured headers, and its credentials, are its own: the rule, and its use at acceptance.</summary>
public class DestinationHeadersTests
{
    private static DestinationOptions Keyed() => new()
    {
        Address = "http://127.0.0.1:9000/bill",
        Headers = new(StringComparer.OrdinalIgnoreCase) { ["X-Tenant"] = "acme", ["X-Api-Key"] = "secret-key" },
    };

    private static RelayOptions Options() => new()
    {
        Destinations =
        {
            ["keyed"] = Keyed(),
            ["open"] = new DestinationOptions { Address = "http://127.0.0.1:9001/open" },
            ["soap"] = new DestinationOptions { Protocol = "Soap", Address = "http://127.0.0.1:9002/svc", Username = "relay", Password = "pw" },
        },
        Topics = { ["both"] = TopicOptions.Of("open", "keyed") },
    };

    private static SendRequest Message(string header, string? destination = "keyed", string? topic = null) => new()
    {
        Id = "m-1", Destination = destination, Topic = topic, Payload = "x",
        Headers = new() { [header] = "from-the-sender" },
    };

    private static RelayError? Error(SendRequest request, Func<DestinationOptions, string, string?>? protocolRule = null)
    {
        MessageValidator.TryValidate(request, Options(), () => "generated", protocolRule, out _, out var error);
        return error;
    }

    [Theory]
    [InlineData("X-Tenant")]
    [InlineData("x-tenant")]
    [InlineData("X-API-KEY")]
    public void A_configured_header_is_the_destination_s_in_any_case(string header)
    {
        Assert.NotNull(DestinationHeaders.Refusal(Keyed(), header));
    }

    [Fact]
    public void A_configured_header_is_the_destination_s_even_when_the_binder_made_its_dictionary_case_sensitive()
    {
        var destination = Keyed();
        destination.Headers = new Dictionary<string, string>(StringComparer.Ordinal) { ["X-Tenant"] = "acme" };

        Assert.NotNull(DestinationHeaders.Refusal(destination, "x-TENANT"));
    }

    [Theory]
    [InlineData("Authorization")]
    [InlineData("cookie")]
    [InlineData("X-Forwarded-For")]
    [InlineData("Forwarded")]
    [InlineData("X-Real-IP")]
    public void A_credential_header_is_the_destination_s_only_when_it_has_credentials(string header)
    {
        Assert.NotNull(DestinationHeaders.Refusal(Keyed(), header));
        Assert.NotNull(DestinationHeaders.Refusal(new DestinationOptions { Username = "relay" }, header));
        Assert.NotNull(DestinationHeaders.Refusal(new DestinationOptions { Password = "pw" }, header));
        Assert.NotNull(DestinationHeaders.Refusal(new DestinationOptions { Address = "http://user:pw@127.0.0.1/" }, header));
        Assert.Null(DestinationHeaders.Refusal(new DestinationOptions { Address = "http://127.0.0.1/" }, header));
    }

    [Fact]
    public void Other_headers_go_through()
    {
        Assert.Null(DestinationHeaders.Refusal(Keyed(), "X-Order"));
    }

    [Fact]
    public void A_message_naming_a_configured_header_is_refused_with_400_naming_the_header_and_destination_not_the_value()
    {
        var error = Error(Message("x-tenant"));

        Assert.NotNull(error);
        Assert.Equal(400, error.StatusCode);
        Assert.StartsWith("Header 'x-tenant' cannot be sent to the destination 'keyed': ", error.Title, StringComparison.Ordinal);
        Assert.DoesNotContain("acme", error.Title + error.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_message_to_a_topic_is_refused_when_any_subscriber_keeps_the_header()
    {
        var error = Error(Message("X-Tenant", destination: null, topic: "both"));

        Assert.NotNull(error);
        Assert.Contains("'keyed'", error.Title, StringComparison.Ordinal);
    }

    [Fact]
    public void Authorization_is_refused_for_a_destination_with_a_username_and_accepted_for_one_without_credentials()
    {
        Assert.NotNull(Error(Message("Authorization", destination: "soap")));
        Assert.Null(Error(Message("Authorization", destination: "open")));
    }

    [Fact]
    public void The_protocol_rule_is_asked_with_the_destination_and_refuses_too()
    {
        var asked = new List<string>();
        string? Rule(DestinationOptions destination, string header)
        {
            asked.Add(header);
            return destination.Protocol == "Soap" && header == "X-Soap-Only" ? "the protocol keeps it" : null;
        }

        var error = Error(Message("X-Soap-Only", destination: "soap"), Rule);

        Assert.NotNull(error);
        Assert.Equal("Header 'X-Soap-Only' cannot be sent to the destination 'soap': the protocol keeps it.", error.Title);
        Assert.Null(Error(Message("X-Soap-Only", destination: "open"), Rule));
        Assert.Equal(["X-Soap-Only", "X-Soap-Only"], asked);
    }
}
