using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;

namespace Relay.Silo.Tests;

/// <summary>A silo with keys and the sample destinations on, so that every endpoint Relay can map is mapped.</summary>
public sealed class ReferencedSilo : IAsyncLifetime
{
    public const string SenderKey = "shop-key-4d1b7e90";
    public const string OperatorKey = "ops-key-8a2c5f13";

    public TestSilo Silo { get; private set; } = null!;

    /// <summary>Does not follow redirects, as a browser's first request shows them.</summary>
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        Silo = await TestSilo.StartAsync(new SiloSettings
        {
            ["Relay:Security:SenderKeys:shop"] = SenderKey,
            ["Relay:Security:OperatorKeys:ops"] = OperatorKey,
            ["Relay:Samples:Enabled"] = "true",
        }
            .Destination("echo", "http://127.0.0.1:9/samples/echo"));
        _client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = Silo.Client.BaseAddress };
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await Silo.DisposeAsync();
    }

    public async Task<HttpResponseMessage> GetAsync(string path, string? key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (key is not null)
        {
            request.Headers.Add("X-Api-Key", key);
        }

        return await _client.SendAsync(request);
    }
}

/// <summary>The OpenAPI document at /openapi/v1.json and Scalar's page at /scalar: complete, and for operators.</summary>
public sealed class ApiReferenceTests(ReferencedSilo fixture) : IClassFixture<ReferencedSilo>
{
    /// <summary>Browser pages described in docs/OPERATIONS.md, and the reference itself: not endpoints of the API.</summary>
    private static readonly string[] NotApi = ["/portal", "/dashboard", "/openapi", "/scalar"];

    [Fact]
    public async Task The_document_lists_every_mapped_endpoint_with_each_of_its_methods()
    {
        var mapped = MappedEndpoints();
        // Not vacuous: the endpoints of docs/API.md are among those enumerated.
        Assert.Contains(("/messages", "POST"), mapped);
        Assert.Contains(("/destinations/{name}/circuit", "POST"), mapped);
        Assert.Contains(("/metrics", "*"), mapped);
        Assert.Contains(("/samples/fail/{status}", "POST"), mapped);

        var paths = await DocumentPathsAsync();
        var missing = mapped
            .Where(e => !paths.TryGetValue(e.Path, out var methods) || (e.Method != "*" && !methods.Contains(e.Method)))
            .Select(e => $"{e.Method} {e.Path}")
            .ToList();
        Assert.True(missing.Count == 0,
            "Endpoints missing from /openapi/v1.json (describe them, and add them to docs/API.md): " + string.Join(", ", missing));
    }

    [Fact]
    public async Task The_document_lists_nothing_that_is_not_mapped()
    {
        var mapped = MappedEndpoints().Select(e => e.Path).ToHashSet(StringComparer.Ordinal);
        var extra = (await DocumentPathsAsync()).Keys.Where(p => !mapped.Contains(p)).ToList();
        Assert.True(extra.Count == 0, "Paths in /openapi/v1.json that no endpoint serves: " + string.Join(", ", extra));
    }

    [Fact]
    public async Task Every_operation_has_a_name_a_summary_and_its_problems()
    {
        var document = await DocumentAsync();
        foreach (var (path, item) in document["paths"]!.AsObject())
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                Assert.False(string.IsNullOrEmpty((string?)operation!["operationId"]), $"{method} {path} has no operationId");
                Assert.False(string.IsNullOrEmpty((string?)operation["summary"]), $"{method} {path} has no summary");
                var responses = operation["responses"]!.AsObject();
                // The failing sample destination never succeeds; everything else says what it answers when it does.
                Assert.True(responses.Any(r => r.Key.StartsWith('2')) || (string?)operation["operationId"] == "SampleFail",
                    $"{method} {path} documents no success");
                // Every client may meet the per-client limits.
                Assert.True(responses["429"]?["content"]?["application/problem+json"] is not null, $"{method} {path} does not document its 429 problem");
                // The samples and /health are open to anyone (a load balancer has no key).
                // /ebms answers an ebXML partner's MSH as an MSH would: its 401 is a SOAP fault.
                if (path == "/ebms")
                {
                    Assert.True(responses["401"]?["content"]?["text/xml"] is not null, $"{method} {path} does not document its 401 fault");
                }
                else if (!path.StartsWith("/samples/", StringComparison.Ordinal) && path != "/health")
                {
                    var unauthorized = responses["401"]?["content"]?["application/problem+json"];
                    Assert.True(unauthorized is not null, $"{method} {path} does not document its 401 problem");
                }
            }
        }

        // Operator endpoints say so; sender endpoints do not promise a 403 they never give.
        Assert.NotNull(document["paths"]!["/messages"]!["get"]!["responses"]!["403"]);
        Assert.Null(document["paths"]!["/messages"]!["post"]!["responses"]!["403"]);
        Assert.NotNull(document["components"]!["securitySchemes"]!["ApiKey"]);
        Assert.Null(document["paths"]!["/health"]!["get"]!["security"]);
        Assert.Contains("Relay:Metrics:ScrapeKey", (string?)document["paths"]!["/metrics"]!["get"]!["description"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_public_shapes_carry_the_descriptions_of_Relay_Contracts()
    {
        // From the doc comments of Relay.Contracts (an XML file the build hands to the OpenAPI source generator).
        var schemas = (await DocumentAsync())["components"]!["schemas"]!;
        foreach (var (schema, property) in new[] { ("SendRequest", "destination"), ("SendRequest", "orderingKey"), ("DeliveryResult", "lastError") })
        {
            var description = (string?)schemas[schema]?["properties"]?[property]?["description"];
            Assert.False(string.IsNullOrWhiteSpace(description), $"{schema}.{property} has no description in /openapi/v1.json");
        }
    }

    [Fact]
    public async Task The_reference_page_and_its_script_are_served_by_the_silo()
    {
        var page = await fixture.GetAsync(ReferencePage, ReferencedSilo.OperatorKey);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("openapi/v1.json", html, StringComparison.Ordinal);
        Assert.Contains("\"telemetry\":false", html, StringComparison.Ordinal);
        Assert.Contains("\"showDeveloperTools\":\"never\"", html, StringComparison.Ordinal);
        Assert.Contains("<script src=\"scalar.js\">", html, StringComparison.Ordinal);
        // Nothing from elsewhere: the script is this silo's.
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);
        var script = await fixture.GetAsync(ReferencePage + "scalar.js", ReferencedSilo.OperatorKey);
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.True((await script.Content.ReadAsByteArrayAsync()).Length > 100_000, "scalar.js is not the bundle");
    }

    [Theory]
    [InlineData("/openapi/v1.json")]
    [InlineData(ReferencePage)]
    public async Task The_document_and_the_page_are_for_operators(string path)
    {
        Assert.Equal(HttpStatusCode.OK, (await fixture.GetAsync(path, ReferencedSilo.OperatorKey)).StatusCode);

        var sender = await fixture.GetAsync(path, ReferencedSilo.SenderKey);
        Assert.Equal(HttpStatusCode.Forbidden, sender.StatusCode);
        Assert.Equal("application/problem+json", sender.Content.Headers.ContentType?.MediaType);

        var wrong = await fixture.GetAsync(path, "not-a-key");
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal("application/problem+json", wrong.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Without_a_key_the_page_sends_a_browser_to_the_sign_in_and_the_document_answers_401()
    {
        var browser = await fixture.GetAsync(ReferencePage, key: null);
        Assert.Equal(HttpStatusCode.Redirect, browser.StatusCode);
        var location = new Uri(fixture.Silo.Client.BaseAddress!, browser.Headers.Location!);
        Assert.Equal("/portal/login", location.AbsolutePath);
        Assert.Contains("returnUrl=" + Uri.EscapeDataString(ReferencePage), location.Query, StringComparison.Ordinal);

        // The document is not a page: no key (and no portal sign-in) is 401, as for the API.
        var document = await fixture.GetAsync("/openapi/v1.json", key: null);
        Assert.Equal(HttpStatusCode.Unauthorized, document.StatusCode);
        Assert.Equal("application/problem+json", document.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Bearer", document.Headers.WwwAuthenticate.Single().Scheme);
    }

    private const string ReferencePage = "/scalar/";

    /// <summary>Every (path, method) the silo routes, as OpenAPI writes paths: "*" for an endpoint that takes any method.</summary>
    private List<(string Path, string Method)> MappedEndpoints()
    {
        var endpoints = fixture.Silo.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>();
        return endpoints
            .Select(e => (Path: AsOpenApiPath(e.RoutePattern), Methods: e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["*"]))
            .Where(e => !NotApi.Any(prefix => e.Path.Equals(prefix, StringComparison.OrdinalIgnoreCase)
                || e.Path.StartsWith(prefix + "/", StringComparison.OrdinalIgnoreCase)))
            .SelectMany(e => e.Methods.Select(m => (e.Path, Method: m.ToUpperInvariant())))
            .Distinct()
            .ToList();
    }

    /// <summary><c>/samples/fail/{status:int}</c> → <c>/samples/fail/{status}</c>: OpenAPI paths carry no constraints.</summary>
    private static string AsOpenApiPath(RoutePattern pattern) =>
        "/" + string.Join("/", pattern.PathSegments.Select(segment => string.Concat(segment.Parts.Select(part => part switch
        {
            RoutePatternLiteralPart literal => literal.Content,
            RoutePatternSeparatorPart separator => separator.Content,
            RoutePatternParameterPart parameter => "{" + parameter.Name + "}",
            _ => throw new InvalidOperationException($"Unexpected route part {part.GetType().Name} in {pattern.RawText}"),
        }))));

    private async Task<JsonNode> DocumentAsync()
    {
        var response = await fixture.GetAsync("/openapi/v1.json", ReferencedSilo.OperatorKey);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await TestSilo.ReadAsync(response);
    }

    private async Task<Dictionary<string, HashSet<string>>> DocumentPathsAsync() =>
        (await DocumentAsync())["paths"]!.AsObject().ToDictionary(
            p => p.Key,
            p => p.Value!.AsObject().Select(o => o.Key.ToUpperInvariant()).ToHashSet(StringComparer.Ordinal),
            StringComparer.Ordinal);
}
