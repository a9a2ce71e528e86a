namespace Relay.Silo.Tests.Telemetry;

/// <summary>
/// <c>/metrics</c> opened to a scrape key (<c>Relay:Metrics:ScrapeKey</c>) or to networks (<c>AllowedNetworks</c>) on a
/// silo with keys, and to nothing else: the scrape key is refused everywhere but <c>/metrics</c>, a network opens
/// <c>/metrics</c> only.
/// </summary>
public sealed class MetricsAccessTests
{
    private const string OpsKey = "ops-key-5d0c2a71";
    private const string ShopKey = "shop-key-8e41b9c3";
    private const string ScrapeKey = "scrape-key-17f6ad02";

    private static Task<TestSilo> StartAsync(params (string Key, string Value)[] metrics)
    {
        var settings = new SiloSettings
        {
            ["Relay:Security:OperatorKeys:ops"] = OpsKey,
            ["Relay:Security:SenderKeys:shop"] = ShopKey,
        }
            .Destination("accepting", "http://127.0.0.1:1/");
        foreach (var (key, value) in metrics)
        {
            settings[key] = value;
        }

        return TestSilo.StartAsync(settings);
    }

    private static async Task<HttpStatusCode> StatusAsync(TestSilo silo, HttpMethod method, string path, string? key, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (key is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        }

        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        using var response = await silo.Client.SendAsync(request);
        return response.StatusCode;
    }

    [Fact]
    public async Task The_scrape_key_reads_metrics_and_nothing_else()
    {
        // A network that is not the test's (loopback): only the key opens /metrics here.
        await using var silo = await StartAsync(("Relay:Metrics:ScrapeKey", ScrapeKey), ("Relay:Metrics:AllowedNetworks:0", "10.0.0.0/8"));

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(silo, HttpMethod.Get, "/metrics", ScrapeKey));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(silo, HttpMethod.Get, "/metrics", OpsKey));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(silo, HttpMethod.Get, "/metrics", null));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(silo, HttpMethod.Get, "/metrics", ScrapeKey[..^1]));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(silo, HttpMethod.Get, "/metrics", ShopKey));

        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(silo, HttpMethod.Post, "/messages", ScrapeKey,
            new { id = "scraper-send", destination = "accepting", payload = "p" }));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(silo, HttpMethod.Get, "/messages", ScrapeKey));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(silo, HttpMethod.Get, "/destinations", ScrapeKey));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(silo, HttpMethod.Post, "/destinations/accepting/pause", ScrapeKey));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(silo, HttpMethod.Get, "/portal", ScrapeKey));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(silo, HttpMethod.Get, "/dashboard", ScrapeKey));
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(silo, HttpMethod.Get, "/messages/scraper-send", OpsKey));

        // The health detail stays for operators.
        using var health = await silo.Client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/health")
        {
            Headers = { Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", ScrapeKey) },
        });
        Assert.Equal(["status"], JsonNode.Parse(await health.Content.ReadAsStringAsync())!.AsObject().Select(p => p.Key));
    }

    [Fact]
    public async Task A_caller_from_an_allowed_network_reads_metrics_without_a_key_and_nothing_else()
    {
        await using var silo = await StartAsync(("Relay:Metrics:AllowedNetworks:0", "192.0.2.0/24"), ("Relay:Metrics:AllowedNetworks:1", "127.0.0.0/8"));

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(silo, HttpMethod.Get, "/metrics", null));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(silo, HttpMethod.Get, "/messages", null));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(silo, HttpMethod.Get, "/destinations", null));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(silo, HttpMethod.Post, "/messages", null,
            new { id = "network-send", destination = "accepting", payload = "p" }));
    }

    [Fact]
    public async Task Without_a_scrape_key_or_network_metrics_stay_for_operators()
    {
        await using var silo = await StartAsync();

        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(silo, HttpMethod.Get, "/metrics", null));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(silo, HttpMethod.Get, "/metrics", ScrapeKey));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(silo, HttpMethod.Get, "/metrics", OpsKey));
    }
}
