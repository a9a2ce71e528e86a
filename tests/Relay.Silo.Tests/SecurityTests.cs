using Microsoft.Extensions.Logging;
using System.Net.Http.Headers;
using Relay.Silo.Security;

namespace Relay.Silo.Tests;

/// <summary>
/// A silo with keys: two senders (<c>shop</c>, <c>other</c>) and an operator (<c>ops</c>); a destination that
/// accepts and one that rejects (so dead letters exist to resubmit and discard).
/// </summary>
public sealed class KeyedSilo : SiloFixture
{
    public const string ShopKey = "shop-key-6c1f0e2b";
    public const string OtherKey = "other-key-93aa71d4";
    public const string OpsKey = "ops-key-0f4b8e55";

    public CapturedLogs Logs { get; } = new();

    protected override ILoggerProvider SiloLogs => Logs;

    protected override SiloSettings Configure()
    {
        Destination.Answer("/reject", new Reply(400, "no"));
        return new SiloSettings
        {
            ["Relay:Security:SenderKeys:shop"] = ShopKey,
            ["Relay:Security:SenderKeys:other"] = OtherKey,
            ["Relay:Security:OperatorKeys:ops"] = OpsKey,
            // The tests here try wrong keys on every endpoint, all from 127.0.0.1; throttling has its own tests.
            ["Relay:Security:FailedAuth:Limit"] = "1000",
        }
            .Contract("quick", 1)
            .Destination("accepting", Destination.Url("/accept"), "quick")
            .Destination("rejecting", Destination.Url("/reject"), "quick")
            // Paused, resumed and switched by the endpoint tests; never sent to, so no other test waits on it.
            .Destination("spare", Destination.Url("/spare"));
    }

    public async Task<HttpResponseMessage> CallAsync(HttpMethod method, string path, string? key, object? body = null, bool bearer = false)
    {
        using var request = new HttpRequestMessage(method, path);
        if (key is not null)
        {
            if (bearer)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            }
            else
            {
                request.Headers.Add("X-Api-Key", key);
            }
        }

        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        return await Silo.Client.SendAsync(request);
    }

    /// <summary>Sends a message with a key and checks it was accepted.</summary>
    public async Task<JsonNode> SendAsync(string key, object message)
    {
        var response = await CallAsync(HttpMethod.Post, "/messages", key, message);
        var body = await TestSilo.ReadAsync(response);
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {body.ToJsonString()}");
        return body;
    }
}

/// <summary>Who may do what, endpoint by endpoint: no key, a wrong key, a sender key, an operator key.</summary>
public sealed class SecurityTests(KeyedSilo fixture) : IClassFixture<KeyedSilo>
{
    private const string Sender = "sender";
    private const string Operator = "operator";

    /// <summary>Every endpoint, with the least role it needs.</summary>
    public static TheoryData<string, string, string> Endpoints() => new()
    {
        { "POST", "/messages", Sender },
        { "GET", "/messages/{own}", Sender },
        { "GET", "/messages", Operator },
        { "GET", "/messages?status=DeadLettered", Operator },
        { "POST", "/messages/{dead}/resubmit", Operator },
        { "POST", "/messages/resubmit", Operator },
        { "POST", "/messages/{dead}/discard", Operator },
        { "POST", "/messages/discard", Operator },
        { "GET", "/operations", Operator },
        { "GET", "/operations/0123456789abcdef0123456789abcdef", Operator },
        { "POST", "/operations/0123456789abcdef0123456789abcdef/cancel", Operator },
        { "GET", "/destinations", Operator },
        { "POST", "/destinations/spare/pause", Operator },
        { "POST", "/destinations/spare/resume", Operator },
        { "POST", "/destinations/spare/circuit", Operator },
        { "GET", "/metrics", Operator },
        { "GET", "/Messaging.svc?wsdl", Sender },
        { "GET", "/no-such-endpoint", Operator },
    };

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task Without_a_key_every_endpoint_answers_401_problem_json(string method, string path, string role)
    {
        _ = role;
        var response = await fixture.CallAsync(new HttpMethod(method), await PathAsync(path), key: null, BodyFor(path));
        await AssertProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task With_a_wrong_key_every_endpoint_answers_401(string method, string path, string role)
    {
        _ = role;
        var wrong = await fixture.CallAsync(new HttpMethod(method), await PathAsync(path), "not-a-key", BodyFor(path));
        await AssertProblemAsync(wrong, HttpStatusCode.Unauthorized);
        // A key that is a prefix of a real one is no key either, and neither is a bearer token of the wrong kind.
        var prefix = await fixture.CallAsync(new HttpMethod(method), await PathAsync(path), KeyedSilo.OpsKey[..^1], BodyFor(path), bearer: true);
        await AssertProblemAsync(prefix, HttpStatusCode.Unauthorized);
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task A_sender_key_is_allowed_on_sender_endpoints_and_403_on_operator_ones(string method, string path, string role)
    {
        var response = await fixture.CallAsync(new HttpMethod(method), await PathAsync(path), KeyedSilo.ShopKey, BodyFor(path));
        if (role == Sender)
        {
            Assert.True(response.StatusCode is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden),
                $"{method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
        else
        {
            await AssertProblemAsync(response, HttpStatusCode.Forbidden);
        }
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task An_operator_key_is_allowed_everywhere(string method, string path, string role)
    {
        _ = role;
        foreach (var bearer in new[] { false, true })
        {
            var response = await fixture.CallAsync(new HttpMethod(method), await PathAsync(path), KeyedSilo.OpsKey, BodyFor(path), bearer);
            Assert.True(response.StatusCode is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden),
                $"{method} {path} (bearer {bearer}): {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    [Fact]
    public async Task A_send_without_a_valid_key_stores_and_sends_nothing()
    {
        var id = "unauth-" + Guid.NewGuid().ToString("N");
        var before = fixture.Destination.ReceivedAt("/accept").Count;
        foreach (var key in new[] { null, "wrong", "" })
        {
            var response = await fixture.CallAsync(HttpMethod.Post, "/messages", key, new { id, destination = "accepting", payload = "x" });
            await AssertProblemAsync(response, HttpStatusCode.Unauthorized);
        }

        var read = await fixture.CallAsync(HttpMethod.Get, $"/messages/{id}", KeyedSilo.OpsKey);
        Assert.Equal(HttpStatusCode.NotFound, read.StatusCode);
        // Nothing stored means nothing can be sent later either: a delivery is attempted only once its state is stored.
        Assert.Equal(before, fixture.Destination.ReceivedAt("/accept").Count);
    }

    [Fact]
    public async Task A_pause_by_a_sender_or_without_a_key_changes_nothing()
    {
        await AssertProblemAsync(await fixture.CallAsync(HttpMethod.Post, "/destinations/rejecting/pause", null), HttpStatusCode.Unauthorized);
        await AssertProblemAsync(await fixture.CallAsync(HttpMethod.Post, "/destinations/rejecting/pause", KeyedSilo.ShopKey), HttpStatusCode.Forbidden);
        var destinations = await TestSilo.ReadAsync(await fixture.CallAsync(HttpMethod.Get, "/destinations", KeyedSilo.OpsKey));
        var rejecting = destinations["items"]!.AsArray().Single(d => (string?)d!["name"] == "rejecting")!;
        Assert.NotEqual(true, (bool?)rejecting["paused"]);
    }

    [Fact]
    public async Task A_sender_reads_its_own_messages_and_no_one_elses()
    {
        var id = "own-" + Guid.NewGuid().ToString("N");
        await fixture.SendAsync(KeyedSilo.ShopKey, new { id, destination = "accepting", payload = "x" });

        Assert.Equal(HttpStatusCode.OK, (await fixture.CallAsync(HttpMethod.Get, $"/messages/{id}", KeyedSilo.ShopKey)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await fixture.CallAsync(HttpMethod.Get, $"/messages/{id}", KeyedSilo.OpsKey)).StatusCode);
        // Another sender learns nothing: the answer of an unknown id.
        var other = await fixture.CallAsync(HttpMethod.Get, $"/messages/{id}", KeyedSilo.OtherKey);
        await AssertProblemAsync(other, HttpStatusCode.NotFound);
        // ...and cannot take the id over, nor read the state through a repeated send.
        var repeat = await fixture.CallAsync(HttpMethod.Post, "/messages", KeyedSilo.OtherKey, new { id, destination = "accepting", payload = "x" });
        await AssertProblemAsync(repeat, HttpStatusCode.Conflict);
        // The owner's repeated send is still the idempotent answer.
        var again = await fixture.CallAsync(HttpMethod.Post, "/messages", KeyedSilo.ShopKey, new { id, destination = "accepting", payload = "x" });
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Fact]
    public async Task The_audit_names_the_operator_key_that_resubmitted_never_the_key()
    {
        var id = "audited-" + Guid.NewGuid().ToString("N");
        var sent = await fixture.SendAsync(KeyedSilo.ShopKey, new { id, destination = "rejecting", payload = "x" });
        Assert.Equal("DeadLettered", (string?)sent["status"]);

        var resubmit = await fixture.CallAsync(HttpMethod.Post, $"/messages/{id}/resubmit", KeyedSilo.OpsKey, new { payload = "edited" });
        Assert.True(resubmit.IsSuccessStatusCode, await resubmit.Content.ReadAsStringAsync());

        var message = await Eventually.Until(
            async () => await TestSilo.ReadAsync(await fixture.CallAsync(HttpMethod.Get, $"/messages/{id}", KeyedSilo.OpsKey)),
            m => m["events"]?.AsArray().Count > 0, what: "the resubmit in the audit");
        var resubmitted = message["events"]!.AsArray().First(e => (string?)e!["action"] == "Resubmitted")!;
        Assert.Equal("ops", (string?)resubmitted["by"]);
        Assert.DoesNotContain(KeyedSilo.OpsKey, message.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Keys_never_reach_the_logs()
    {
        await fixture.SendAsync(KeyedSilo.ShopKey, new { destination = "accepting", payload = "x" });
        await fixture.CallAsync(HttpMethod.Get, "/messages", KeyedSilo.ShopKey);
        await fixture.CallAsync(HttpMethod.Get, "/messages", "wrong-" + KeyedSilo.OpsKey);
        await fixture.CallAsync(HttpMethod.Get, "/destinations", KeyedSilo.OpsKey, bearer: true);

        var lines = fixture.Logs.Lines;
        Assert.NotEmpty(lines);
        foreach (var key in new[] { KeyedSilo.ShopKey, KeyedSilo.OtherKey, KeyedSilo.OpsKey })
        {
            Assert.DoesNotContain(lines, line => line.Contains(key, StringComparison.Ordinal));
        }

        // The start-up log says keys are required, by count.
        Assert.Contains(lines, line => line.Contains("API keys required: 2 sender key(s), 1 operator key(s)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_SOAP_front_door_needs_a_key_and_refuses_without_one_before_parsing()
    {
        const string envelope = """
            <s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
            <GetStatus xmlns="urn:relay:messaging:v1"><id>x</id></GetStatus></s:Body></s:Envelope>
            """;
        foreach (var key in new[] { null, "wrong" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/Messaging.svc")
            {
                Content = new StringContent(envelope, Encoding.UTF8, "text/xml"),
            };
            request.Headers.Add("SOAPAction", "\"urn:relay:messaging:v1/IMessagingService/GetStatus\"");
            if (key is not null)
            {
                request.Headers.Add("X-Api-Key", key);
            }

            var response = await fixture.Silo.Client.SendAsync(request);
            await AssertProblemAsync(response, HttpStatusCode.Unauthorized);
        }
    }

    private async Task<string> PathAsync(string template)
    {
        if (template.Contains("{own}", StringComparison.Ordinal))
        {
            var id = "mine-" + Guid.NewGuid().ToString("N");
            await fixture.SendAsync(KeyedSilo.ShopKey, new { id, destination = "accepting", payload = "x" });
            return template.Replace("{own}", id, StringComparison.Ordinal);
        }

        if (template.Contains("{dead}", StringComparison.Ordinal))
        {
            var id = "dead-" + Guid.NewGuid().ToString("N");
            var sent = await fixture.SendAsync(KeyedSilo.ShopKey, new { id, destination = "rejecting", payload = "x" });
            Assert.Equal("DeadLettered", (string?)sent["status"]);
            return template.Replace("{dead}", id, StringComparison.Ordinal);
        }

        return template;
    }

    private static object? BodyFor(string path) => path switch
    {
        "/messages" => new { destination = "accepting", payload = "x" },
        "/messages/resubmit" => new { status = "DeadLettered", destination = "rejecting" },
        "/messages/discard" => new { status = "DeadLettered", destination = "rejecting" },
        "/destinations/spare/circuit" => new { state = "Closed" },
        _ when path.EndsWith("/resubmit", StringComparison.Ordinal) => new { },
        _ => null,
    };

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(text)!;
        Assert.Equal((int)expected, (int?)problem["status"]);
        Assert.False(string.IsNullOrWhiteSpace((string?)problem["title"]));
    }
}

/// <summary>Without any key: loopback only, unless AllowAnonymous; and the start-up log says which.</summary>
public sealed class AnonymousAccessTests
{
    [Theory]
    [InlineData("http://0.0.0.0:5000", "http://127.0.0.1:5000")]
    [InlineData("http://*:5000", "http://127.0.0.1:5000")]
    [InlineData("http://+:5000/", "http://127.0.0.1:5000/")]
    [InlineData("http://[::]:5000", "http://127.0.0.1:5000")]
    [InlineData("https://relay.example.com:443", "https://127.0.0.1:443")]
    [InlineData("http://10.1.2.3", "http://127.0.0.1")]
    [InlineData("http://127.0.0.1:5001", "http://127.0.0.1:5001")]
    [InlineData("http://localhost:5001", "http://localhost:5001")]
    [InlineData("http://[::1]:5001", "http://[::1]:5001")]
    public void A_url_is_moved_to_loopback_unless_it_is_loopback(string url, string expected) =>
        Assert.Equal(expected, RelaySecurityExtensions.ToLoopback(url));

    [Fact]
    public async Task Without_keys_the_silo_listens_on_loopback_only_and_says_so()
    {
        var logs = new CapturedLogs();
        await using var silo = await TestSilo.StartAsync(new Dictionary<string, string?>(), logs: logs, urls: "http://0.0.0.0:0");
        Assert.All(silo.Addresses, address => Assert.StartsWith("http://127.0.0.1:", address, StringComparison.Ordinal));
        Assert.Contains(logs.Lines, line => line.Contains("No API key is configured: listening on loopback only", StringComparison.Ordinal));
        // Everyone on loopback is an operator named "anonymous".
        Assert.Equal(HttpStatusCode.OK, (await silo.Client.GetAsync("/destinations")).StatusCode);
    }

    [Fact]
    public async Task AllowAnonymous_listens_where_told_and_warns()
    {
        var logs = new CapturedLogs();
        await using var silo = await TestSilo.StartAsync(new Dictionary<string, string?> { ["Relay:Security:AllowAnonymous"] = "true" },
            logs: logs, urls: "http://0.0.0.0:0");
        Assert.All(silo.Addresses, address => Assert.StartsWith("http://0.0.0.0:", address, StringComparison.Ordinal));
        Assert.Contains(logs.Lines, line => line.Contains("AllowAnonymous is true: anyone who reaches", StringComparison.Ordinal));
    }
}
