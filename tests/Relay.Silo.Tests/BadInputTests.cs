using System.Text.Json;

namespace Relay.Silo.Tests;

/// <summary>
/// One silo (payload limit 1 KiB) for every bad send: a destination that must never be called, and one for the
/// sends at the limit, which are accepted.
/// </summary>
public sealed class BadInputSilo : IAsyncLifetime
{
    public const int MaxPayloadBytes = 1024;

    /// <summary>Behind <c>billing</c>, <c>shipping</c>, the topic <c>orders</c> and the notifications: a refused send reaches none of it.</summary>
    public TestDestination Refused { get; private set; } = null!;

    /// <summary>Behind <c>edge</c>: the sends at exactly the limit.</summary>
    public TestDestination Accepted { get; private set; } = null!;

    public TestSilo Silo { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Refused = await TestDestination.StartAsync();
        Accepted = await TestDestination.StartAsync();
        Silo = await TestSilo.StartAsync(new SiloSettings
        {
            ["Relay:Limits:MaxPayloadBytes"] = MaxPayloadBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Relay:Destinations:billing:Notify"] = "callbacks",
            ["Relay:Destinations:billing:NotifyOn"] = "Always",
            // Configured headers (one of them a key): they win, and a message that names one is refused.
            ["Relay:Destinations:tenanted:Headers:X-Tenant"] = "acme",
            ["Relay:Destinations:tenanted:Headers:X-Api-Key"] = "destination-key",
            ["Relay:Topics:orders:0"] = "billing",
            ["Relay:Topics:orders:1"] = "shipping",
            ["Relay:Topics:tenants:0"] = "shipping",
            ["Relay:Topics:tenants:1"] = "tenanted",
        }
            .Contract("quick", 2)
            .Destination("billing", Refused.Url("/bill"), "quick")
            .Destination("shipping", Refused.Url("/ship"))
            .Destination("callbacks", Refused.Url("/notify"))
            .Destination("edge", Accepted.Url("/edge"))
            .Destination("tenanted", Refused.Url("/tenant")));
    }

    public async Task DisposeAsync()
    {
        await Silo.DisposeAsync();
        await Refused.DisposeAsync();
        await Accepted.DisposeAsync();
    }
}

/// <summary>
/// <c>POST /messages</c> refuses bad input whole: problem+json with the right status and a title, nothing stored,
/// nothing sent (docs/API.md, "POST /messages" and "Errors").
/// </summary>
public sealed class BadInputTests(BadInputSilo fixture) : IClassFixture<BadInputSilo>
{
    private const int Limit = BadInputSilo.MaxPayloadBytes;

    private TestSilo Silo => fixture.Silo;

    public static TheoryData<string, string, int, string?, string> BadBodies => new()
    {
        // case, body, expected status, the id the body names (to check it was not stored), what the title names
        { "malformed JSON", """{"id":"malformed-1","destination":"billing","payload":"x" """, 400, "malformed-1", "JSON" },
        { "trailing garbage", """{"id":"trailing-1","destination":"billing","payload":"x"} x""", 400, "trailing-1", "JSON" },
        { "a JSON array", """[{"id":"array-1","destination":"billing","payload":"x"}]""", 400, "array-1", "JSON" },
        { "a JSON number", "42", 400, null, "JSON" },
        { "a JSON string", "\"send this\"", 400, null, "JSON" },
        { "JSON null", "null", 400, null, "body" },
        { "an empty body", "", 400, null, "body" },
        { "headers as an array", """{"id":"types-headers","destination":"billing","payload":"x","headers":["X-Tenant: acme"]}""", 400, "types-headers", "JSON" },
        { "a header value as a number", """{"id":"types-header-value","destination":"billing","payload":"x","headers":{"X-Tenant":7}}""", 400, "types-header-value", "JSON" },
        { "payload as a number", """{"id":"types-payload","destination":"billing","payload":42}""", 400, "types-payload", "JSON" },
        { "destination as an object", """{"id":"types-destination","destination":{"name":"billing"},"payload":"x"}""", 400, "types-destination", "JSON" },
        { "an unknown destination", """{"id":"unknown-destination","destination":"nowhere","payload":"x"}""", 400, "unknown-destination", "destination" },
        { "an unknown topic", """{"id":"unknown-topic","topic":"nowhere","payload":"x"}""", 400, "unknown-topic", "topic" },
        { "an unknown contract", """{"id":"unknown-contract","destination":"billing","payload":"x","contract":"nope"}""", 400, "unknown-contract", "contract" },
        { "an unknown notify", """{"id":"unknown-notify","destination":"billing","payload":"x","notify":"nope"}""", 400, "unknown-notify", "notify" },
        { "both destination and topic", """{"id":"both-targets","destination":"billing","topic":"orders","payload":"x"}""", 400, "both-targets", "destination" },
        { "neither destination nor topic", """{"id":"no-target","payload":"x"}""", 400, "no-target", "destination" },
        { "an empty payload", """{"id":"empty-payload","destination":"billing","payload":""}""", 400, "empty-payload", "payload" },
        { "an empty payloadBase64", """{"id":"empty-base64","destination":"billing","payloadBase64":""}""", 400, "empty-base64", "payload" },
        { "no payload", """{"id":"no-payload","destination":"billing"}""", 400, "no-payload", "payload" },
        { "both payload and payloadBase64", """{"id":"both-payloads","destination":"billing","payload":"x","payloadBase64":"eA=="}""", 400, "both-payloads", "payload" },
        { "invalid base64", """{"id":"bad-base64","destination":"billing","payloadBase64":"not base64!"}""", 400, "bad-base64", "base64" },
        { "an id of 201 characters", $$"""{"id":"{{new string('i', 201)}}","destination":"billing","payload":"x"}""", 400, new string('i', 201), "message id" },
        { "an id with a control character", """{"id":"ctl\u0001id","destination":"billing","payload":"x"}""", 400, null, "message id" },
        { "an id of white space", """{"id":"   ","destination":"billing","payload":"x"}""", 400, null, "message id" },
        { "an id starting with '~' (reserved)", """{"id":"~mine","destination":"billing","payload":"x"}""", 400, "~mine", "message id" },
        { "a header name with a space", """{"id":"header-space","destination":"billing","payload":"x","headers":{"X Tenant":"acme"}}""", 400, "header-space", "header" },
        { "a header value with a newline", """{"id":"header-newline","destination":"billing","payload":"x","headers":{"X-Tenant":"acme\r\nX-Injected: 1"}}""", 400, "header-newline", "header" },
        { "an invalid contentType", """{"id":"bad-content-type","destination":"billing","payload":"x","contentType":"not a media type"}""", 400, "bad-content-type", "contentType" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task A_bad_send_is_refused_with_a_problem_that_names_the_fault_and_changes_nothing(string @case, string body, int status, string? id, string mentions)
    {
        var problem = await AssertRefusedAsync(body, (HttpStatusCode)status, id);

        Assert.True(((string?)problem["title"])!.Contains(mentions, StringComparison.OrdinalIgnoreCase),
            $"{@case}: the title '{problem["title"]}' does not mention {mentions}.");
    }

    [Fact]
    public async Task A_status_given_as_a_number_is_refused_as_in_the_query_string()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/messages/resubmit")
        {
            Content = new StringContent("""{"status": 3}""", System.Text.Encoding.UTF8, "application/json"),
        };

        await ProblemAssert.IsProblemAsync(Silo.Client.SendAsync(request), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_send_without_a_message_points_to_the_API_guide_in_the_repository()
    {
        var problem = await AssertRefusedAsync("null", HttpStatusCode.BadRequest, id: null);

        // The repository's own guide, never a file outside it.
        Assert.Contains("docs/API.md", (string?)problem["detail"], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Host")]
    [InlineData("Content-Length")]
    [InlineData("Transfer-Encoding")]
    [InlineData("Connection")]
    [InlineData("Upgrade")]
    [InlineData("Keep-Alive")]
    [InlineData("Idempotency-Key")]
    [InlineData("X-Relay-Attempt")]
    [InlineData("x-relay-attempt")]
    [InlineData("Content-Type")]
    public async Task A_header_the_transport_or_Relay_owns_is_refused(string header)
    {
        var id = "header-" + header.ToLowerInvariant();
        var body = Json(new { id, destination = "billing", payload = "x", headers = new Dictionary<string, string> { [header] = "1" } });

        var problem = await AssertRefusedAsync(body, HttpStatusCode.BadRequest, id);

        Assert.Contains(header, (string?)problem["title"], StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("X-Tenant")]
    [InlineData("x-tenant")]
    [InlineData("X-API-KEY")]
    public async Task A_header_the_destination_configures_is_refused_naming_it(string header)
    {
        var id = "configured-" + header;
        var body = Json(new { id, destination = "tenanted", payload = "x", headers = new Dictionary<string, string> { [header] = "other" } });

        var problem = await AssertRefusedAsync(body, HttpStatusCode.BadRequest, id, also: "tenanted");

        Assert.Contains($"'{header}'", (string?)problem["title"], StringComparison.Ordinal);
        Assert.Contains("tenanted", (string?)problem["title"], StringComparison.Ordinal);
        Assert.DoesNotContain("acme", problem.ToJsonString(), StringComparison.Ordinal);
        Assert.DoesNotContain("destination-key", problem.ToJsonString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Authorization", "Bearer sender-token")]
    [InlineData("authorization", "Basic c2VuZGVyOnB3")]
    [InlineData("Cookie", "session=sender")]
    [InlineData("X-Forwarded-For", "10.0.0.1")]
    [InlineData("Forwarded", "for=10.0.0.1")]
    public async Task A_credential_header_is_refused_for_a_destination_with_credentials_of_its_own(string header, string value)
    {
        var id = "credential-" + header + "-" + value.Length;
        var body = Json(new { id, destination = "tenanted", payload = "x", headers = new Dictionary<string, string> { [header] = value } });

        var problem = await AssertRefusedAsync(body, HttpStatusCode.BadRequest, id, also: "tenanted");

        Assert.Contains($"'{header}'", (string?)problem["title"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_message_to_a_topic_is_refused_whole_when_one_subscriber_configures_its_header()
    {
        var body = Json(new { id = "topic-configured", topic = "tenants", payload = "x", headers = new Dictionary<string, string> { ["X-Tenant"] = "other" } });

        var problem = await AssertRefusedAsync(body, HttpStatusCode.BadRequest, "topic-configured", also: "tenanted");

        Assert.Contains("'X-Tenant'", (string?)problem["title"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_sender_Authorization_reaches_a_destination_without_credentials()
    {
        using var response = await Silo.SendAsync(new
        {
            id = "authorization-edge", destination = "edge", payload = "x",
            headers = new Dictionary<string, string> { ["Authorization"] = "Bearer sender-token", ["X-Tenant"] = "other" },
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(fixture.Accepted.Received, r => r.Header("Idempotency-Key") == "authorization-edge");
        Assert.Equal("Bearer sender-token", received.Header("Authorization"));
        Assert.Equal("other", received.Header("X-Tenant"));
    }

    [Fact]
    public async Task A_bad_send_to_a_topic_reaches_no_subscriber()
    {
        await AssertRefusedAsync(Json(new { id = "topic-bad", topic = "orders", payload = "x", contract = "nope" }), HttpStatusCode.BadRequest, "topic-bad");
    }

    [Fact]
    public async Task A_payload_one_byte_over_the_limit_is_413()
    {
        await AssertRefusedAsync(Json(new { id = "over-text", destination = "billing", payload = new string('a', Limit + 1) }),
            HttpStatusCode.RequestEntityTooLarge, "over-text");
    }

    [Fact]
    public async Task A_payload_is_measured_in_UTF8_bytes_not_characters()
    {
        // 342 characters, 1026 bytes.
        await AssertRefusedAsync(Json(new { id = "over-utf8", destination = "billing", payload = new string('€', 342) }),
            HttpStatusCode.RequestEntityTooLarge, "over-utf8");
    }

    [Fact]
    public async Task A_payloadBase64_one_byte_over_the_limit_is_413()
    {
        var bytes = Enumerable.Range(0, Limit + 1).Select(i => (byte)i).ToArray();

        await AssertRefusedAsync(Json(new { id = "over-base64", destination = "billing", payloadBase64 = Convert.ToBase64String(bytes) }),
            HttpStatusCode.RequestEntityTooLarge, "over-base64");
    }

    [Fact]
    public async Task A_body_of_several_MiB_is_413()
    {
        var body = Json(new { id = "huge-body", destination = "billing", payload = new string('a', 6 * 1024 * 1024) });

        // Expect: 100-continue (as curl sends for large bodies) lets the client read the early 413 instead of
        // writing 6 MiB into a connection the server has closed.
        await AssertRefusedAsync(body, HttpStatusCode.RequestEntityTooLarge, "huge-body", expectContinue: true);
    }

    [Fact]
    public async Task A_payload_of_exactly_the_limit_is_accepted_and_delivered()
    {
        var payload = new string('a', Limit);

        using var response = await Silo.SendAsync(new { id = "limit-text", destination = "edge", payload });

        var body = await TestSilo.ReadAsync(response);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Delivered", (string?)body["status"]);
        var received = Assert.Single(fixture.Accepted.Received, r => r.Header("Idempotency-Key") == "limit-text");
        Assert.Equal(payload, received.Text);
    }

    [Fact]
    public async Task A_payloadBase64_of_exactly_the_limit_is_accepted_and_delivered()
    {
        var bytes = Enumerable.Range(0, Limit).Select(i => (byte)(i * 7)).ToArray();

        using var response = await Silo.SendAsync(new { id = "limit-base64", destination = "edge", payloadBase64 = Convert.ToBase64String(bytes) });

        var body = await TestSilo.ReadAsync(response);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Delivered", (string?)body["status"]);
        var received = Assert.Single(fixture.Accepted.Received, r => r.Header("Idempotency-Key") == "limit-base64");
        Assert.Equal(bytes, received.Body);
    }

    /// <summary>Sends a raw body; asserts the problem, that the id is unknown afterwards, and that nothing was sent or stored.</summary>
    private async Task<JsonNode> AssertRefusedAsync(string body, HttpStatusCode status, string? id, bool expectContinue = false, string? also = null)
    {
        var sentBefore = fixture.Refused.Received.Count;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/messages")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.ExpectContinue = expectContinue;

        var problem = await ProblemAssert.IsProblemAsync(Silo.Client.SendAsync(request), status);

        if (id is not null)
        {
            await ProblemAssert.NotStoredAsync(Silo, id);
        }

        // Whatever the id: no message to the refused destinations is listed, and none of them was called.
        foreach (var destination in new[] { "billing", "shipping", "callbacks", also }.OfType<string>())
        {
            var page = await TestSilo.ReadAsync(await Silo.Client.GetAsync($"/messages?destination={destination}"));
            Assert.Empty(page["items"]!.AsArray());
        }

        Assert.Equal(sentBefore, fixture.Refused.Received.Count);
        return problem;
    }

    private static string Json(object value) => JsonSerializer.Serialize(value);
}
