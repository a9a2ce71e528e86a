namespace Relay.Silo.Tests;

/// <summary>
/// A silo without keys (loopback only, everyone on the machine an operator): a destination that accepts, one that
/// rejects (so dead letters exist), and <c>spare</c> to pause.
/// </summary>
public sealed class AnonymousSilo : SiloFixture
{
    protected override SiloSettings Configure()
    {
        Destination.Answer("/reject", new Reply(400, "no"));
        return new SiloSettings
        {
            ["Relay:Contracts:once:MaxAttempts"] = "1",
        }
            .Destination("accepting", Destination.Url("/accept"))
            .Destination("rejecting", Destination.Url("/reject"), "once")
            .Destination("spare", Destination.Url("/spare"));
    }
}

/// <summary>
/// Without keys, a browser on the silo's machine must not be a way in: a web page can send a "simple" cross-site request
/// (text/plain or a form, no custom header) and a DNS-rebound page sends its own host name. JSON endpoints take only
/// JSON (415), only loopback host names are served (DNS rebinding), and a cross-site browser request that changes
/// state is refused (Origin, Sec-Fetch-Site). Each refusal is problem+json and changes nothing.
/// </summary>
public sealed class AnonymousModeTests(AnonymousSilo fixture) : IClassFixture<AnonymousSilo>
{
    private TestSilo Silo => fixture.Silo;

    private int Port => Silo.Client.BaseAddress!.Port;

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("multipart/form-data; boundary=x")]
    [InlineData("text/json")]
    [InlineData(null)]
    public async Task A_send_that_is_not_application_json_is_415_and_stores_and_sends_nothing(string? contentType)
    {
        var id = "plain-" + Guid.NewGuid().ToString("N");
        var before = fixture.Destination.ReceivedAt("/accept").Count;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/messages")
        {
            Content = new StringContent($$"""{"id":"{{id}}","destination":"accepting","payload":"x"}"""),
        };
        request.Content.Headers.ContentType = contentType is null ? null : System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType);

        await ProblemAssert.IsProblemAsync(Silo.Client.SendAsync(request), HttpStatusCode.UnsupportedMediaType);

        await ProblemAssert.NotStoredAsync(Silo, id);
        Assert.Equal(before, fixture.Destination.ReceivedAt("/accept").Count);
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("Application/JSON")]
    [InlineData("application/vnd.relay+json")]
    public async Task A_send_as_json_is_accepted(string contentType)
    {
        var id = "json-" + Guid.NewGuid().ToString("N");
        using var content = new StringContent($$"""{"id":"{{id}}","destination":"accepting","payload":"x"}""");
        content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType);

        using var response = await Silo.Client.PostAsync("/messages", content);

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    [Fact]
    public async Task A_resubmit_or_a_circuit_change_with_a_text_plain_body_is_415_and_changes_nothing()
    {
        var id = await DeadLetterAsync();
        using var resubmitBody = new StringContent("""{"payload":"edited"}""", Encoding.UTF8, "text/plain");
        await ProblemAssert.IsProblemAsync(Silo.Client.PostAsync($"/messages/{id}/resubmit", resubmitBody), HttpStatusCode.UnsupportedMediaType);
        using var circuitBody = new StringContent("""{"state":"Open"}""", Encoding.UTF8, "text/plain");
        await ProblemAssert.IsProblemAsync(Silo.Client.PostAsync("/destinations/spare/circuit", circuitBody), HttpStatusCode.UnsupportedMediaType);

        AssertNoOperatorEvent(await Silo.GetMessageAsync(id));
        Assert.Equal("Closed", (string?)(await SpareAsync())["circuit"]);
    }

    [Fact]
    public async Task A_resubmit_without_a_body_needs_no_content_type()
    {
        var id = await DeadLetterAsync();

        using var response = await Silo.Client.PostAsync($"/messages/{id}/resubmit", null);

        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    [Theory]
    [InlineData("evil.example")]
    [InlineData("evil.example:{port}")]
    [InlineData("127.0.0.1.nip.io:{port}")]
    [InlineData("localhost.evil.example:{port}")]
    [InlineData("10.0.0.1:{port}")]
    public async Task A_request_for_a_host_name_that_is_not_loopback_is_refused_and_changes_nothing(string host)
    {
        host = host.Replace("{port}", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        var id = await DeadLetterAsync();

        // DNS rebinding: the page's own name, now resolving to 127.0.0.1. It may neither read nor act.
        await ProblemAssert.IsProblemAsync(SendWithHostAsync(HttpMethod.Get, $"/messages/{id}", host), HttpStatusCode.BadRequest);
        await ProblemAssert.IsProblemAsync(SendWithHostAsync(HttpMethod.Get, "/messages", host), HttpStatusCode.BadRequest);
        await ProblemAssert.IsProblemAsync(SendWithHostAsync(HttpMethod.Post, "/destinations/spare/pause", host), HttpStatusCode.BadRequest);
        await ProblemAssert.IsProblemAsync(SendWithHostAsync(HttpMethod.Post, $"/messages/{id}/discard", host), HttpStatusCode.BadRequest);
        using (var portal = await SendWithHostAsync(HttpMethod.Get, "/portal", host))
        {
            Assert.Equal(HttpStatusCode.BadRequest, portal.StatusCode);
        }

        Assert.NotEqual(true, (bool?)(await SpareAsync())["paused"]);
        Assert.Equal("DeadLettered", (string?)(await Silo.GetMessageAsync(id))!["status"]);
    }

    [Theory]
    [InlineData("localhost:{port}")]
    [InlineData("LOCALHOST:{port}")]
    [InlineData("127.0.0.1:{port}")]
    [InlineData("127.1.2.3:{port}")]
    [InlineData("[::1]:{port}")]
    [InlineData("localhost")]
    public async Task A_loopback_host_name_is_served(string host)
    {
        host = host.Replace("{port}", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);

        using var response = await SendWithHostAsync(HttpMethod.Get, "/destinations", host);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    public static TheoryData<string, string?, string?> CrossSite => new()
    {
        // Origin, Sec-Fetch-Site
        { "form post from another site", "http://evil.example", null },
        { "form post from another site (modern browser)", "http://evil.example", "cross-site" },
        { "same site, other port", "http://127.0.0.1:1", "same-site" },
        { "a sandboxed or file page", "null", "cross-site" },
        { "an old browser, Origin only", "http://evil.example", null },
        { "Sec-Fetch-Site only", null, "cross-site" },
    };

    [Theory]
    [MemberData(nameof(CrossSite))]
    public async Task A_cross_site_browser_request_that_changes_state_is_403_and_changes_nothing(string @case, string? origin, string? fetchSite)
    {
        _ = @case;
        var id = await DeadLetterAsync();
        var sendId = "csrf-" + Guid.NewGuid().ToString("N");

        await ProblemAssert.IsProblemAsync(SendFromBrowserAsync(HttpMethod.Post, "/destinations/spare/pause", origin, fetchSite), HttpStatusCode.Forbidden);
        await ProblemAssert.IsProblemAsync(SendFromBrowserAsync(HttpMethod.Post, $"/messages/{id}/discard", origin, fetchSite), HttpStatusCode.Forbidden);
        await ProblemAssert.IsProblemAsync(SendFromBrowserAsync(HttpMethod.Post, $"/messages/{id}/resubmit", origin, fetchSite), HttpStatusCode.Forbidden);
        await ProblemAssert.IsProblemAsync(SendFromBrowserAsync(HttpMethod.Post, "/messages", origin, fetchSite,
            JsonContent.Create(new { id = sendId, destination = "accepting", payload = "x" })), HttpStatusCode.Forbidden);

        Assert.NotEqual(true, (bool?)(await SpareAsync())["paused"]);
        var message = await Silo.GetMessageAsync(id);
        Assert.Equal("DeadLettered", (string?)message!["status"]);
        AssertNoOperatorEvent(message);
        await ProblemAssert.NotStoredAsync(Silo, sendId);
    }

    [Fact]
    public async Task A_same_origin_browser_request_and_a_request_without_browser_headers_are_served()
    {
        var origin = $"http://127.0.0.1:{Port}";
        using (var sameOrigin = await SendFromBrowserAsync(HttpMethod.Post, "/destinations/spare/pause", origin, "same-origin"))
        {
            Assert.Equal(HttpStatusCode.OK, sameOrigin.StatusCode);
        }

        using (var oldBrowser = await SendFromBrowserAsync(HttpMethod.Post, "/destinations/spare/resume", origin, null))
        {
            Assert.Equal(HttpStatusCode.OK, oldBrowser.StatusCode);
        }

        using (var typed = await SendFromBrowserAsync(HttpMethod.Post, "/destinations/spare/pause", null, "none"))
        {
            Assert.Equal(HttpStatusCode.OK, typed.StatusCode);
        }

        using (var curl = await SendFromBrowserAsync(HttpMethod.Post, "/destinations/spare/resume", null, null))
        {
            Assert.Equal(HttpStatusCode.OK, curl.StatusCode);
        }

        // A cross-site GET changes nothing and is answered; without CORS headers the browser keeps the answer from the page.
        using var read = await SendFromBrowserAsync(HttpMethod.Get, "/destinations", "http://evil.example", "cross-site");
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
    }

    private static void AssertNoOperatorEvent(JsonNode? message) =>
        Assert.True(message?["events"] is null || message["events"]!.AsArray().Count == 0, $"operator events: {message?["events"]?.ToJsonString()}");

    private async Task<string> DeadLetterAsync()
    {
        var id = "dead-" + Guid.NewGuid().ToString("N");
        var (response, body) = await Silo.SendAndReadAsync(new { id, destination = "rejecting", payload = "x" });
        Assert.True((string?)body["status"] == "DeadLettered", $"{(int)response.StatusCode} {body.ToJsonString()}");
        return id;
    }

    private async Task<JsonNode> SpareAsync()
    {
        var destinations = await TestSilo.ReadAsync(await Silo.Client.GetAsync("/destinations"));
        return destinations["items"]!.AsArray().Single(d => (string?)d!["name"] == "spare")!;
    }

    private Task<HttpResponseMessage> SendWithHostAsync(HttpMethod method, string path, string host)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Host = host;
        return Silo.Client.SendAsync(request);
    }

    private Task<HttpResponseMessage> SendFromBrowserAsync(HttpMethod method, string path, string? origin, string? fetchSite, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }

        if (fetchSite is not null)
        {
            request.Headers.Add("Sec-Fetch-Site", fetchSite);
        }

        return Silo.Client.SendAsync(request);
    }
}
