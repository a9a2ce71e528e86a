using Microsoft.Extensions.DependencyInjection;

namespace Relay.Silo.Tests.Telemetry;

/// <summary>The Orleans Dashboard at /dashboard: operators only, its data calls included.</summary>
public sealed class DashboardTests(KeyedSilo fixture) : IClassFixture<KeyedSilo>
{
    [Theory]
    [InlineData("/dashboard/")]
    [InlineData("/dashboard/DashboardCounters")]
    [InlineData("/dashboard/ClusterStats")]
    public async Task An_operator_key_opens_the_dashboard_and_its_data(string path)
    {
        using var response = await CallAsync(path, KeyedSilo.OpsKey);
        var text = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        if (path.EndsWith('/'))
        {
            Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("<title>Orleans Dashboard</title>", text, StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            Assert.NotNull(JsonNode.Parse(text));
        }
    }

    [Fact]
    public async Task The_dashboard_shows_the_silo_and_Relays_grains_at_work()
    {
        // A delivery that is not delivered stays in memory a while (a delivered one leaves at once, and a message to one
        // destination has no message grain): a dead-lettered one shows.
        await fixture.SendAsync(KeyedSilo.ShopKey, new { destination = "rejecting", payload = "x" });

        var counters = await Eventually.Until(async () =>
            {
                using var response = await CallAsync("/dashboard/DashboardCounters", KeyedSilo.OpsKey);
                return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            },
            c => GrainTypes(c).Any(t => t.EndsWith(".DeliveryGrain", StringComparison.Ordinal))
                 && GrainTypes(c).Any(t => t.EndsWith(".RetrySchedulerGrain", StringComparison.Ordinal)),
            what: "DeliveryGrain and RetrySchedulerGrain in the dashboard's grain statistics");

        var host = Assert.Single(counters["hosts"]!.AsArray());
        Assert.Equal("Active", (string?)host!["status"]);
    }

    [Fact]
    public async Task While_the_dashboard_is_watched_its_method_statistics_count_Relays_grain_calls()
    {
        // Relay's filter stands in for the dashboard's (issue 14: the dashboard's awaited every call, watched or not).
        var filters = fixture.Silo.Services.GetServices<Orleans.IIncomingGrainCallFilter>().ToList();
        Assert.Single(filters.OfType<Relay.Silo.Telemetry.DashboardProfilingFilter>());
        Assert.DoesNotContain(filters, f => f.GetType().Name == "GrainProfilerFilter");

        // Reading the dashboard's data turns its profiler on; the calls made then show in its method statistics.
        await Eventually.Until(async () =>
            {
                using (await CallAsync("/dashboard/DashboardCounters", KeyedSilo.OpsKey))
                {
                }

                await fixture.SendAsync(KeyedSilo.ShopKey, new { destination = "rejecting", payload = "profiled" });

                using var response = await CallAsync("/dashboard/TopGrainMethods", KeyedSilo.OpsKey);
                return await response.Content.ReadAsStringAsync();
            },
            top => top.Contains("DeliveryGrain", StringComparison.Ordinal) && top.Contains("\"Accept\"", StringComparison.Ordinal),
            what: "DeliveryGrain.Accept in the dashboard's top grain methods");
    }

    [Theory]
    [InlineData("/dashboard/")]
    [InlineData("/dashboard/DashboardCounters")]
    public async Task A_browser_without_a_key_is_sent_to_the_portal_sign_in(string path)
    {
        using var response = await CallAsync(path, key: null);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/portal/login", response.Headers.Location?.AbsolutePath ?? response.Headers.Location?.OriginalString.Split('?')[0]);
        Assert.Contains("returnUrl=" + Uri.EscapeDataString(path), response.Headers.Location!.OriginalString, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/dashboard/")]
    [InlineData("/dashboard/DashboardCounters")]
    public async Task A_sender_key_is_refused_with_403_and_a_wrong_key_with_401(string path)
    {
        using var sender = await CallAsync(path, KeyedSilo.ShopKey);
        await ProblemAssert.IsProblemAsync(sender, HttpStatusCode.Forbidden);

        using var wrong = await CallAsync(path, "not-a-key");
        await ProblemAssert.IsProblemAsync(wrong, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Relay_Dashboard_Enabled_false_serves_no_dashboard()
    {
        await using var silo = await TestSilo.StartAsync(new Dictionary<string, string?> { ["Relay:Dashboard:Enabled"] = "false" });

        using var response = await silo.Client.GetAsync("/dashboard/DashboardCounters");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    private static IEnumerable<string> GrainTypes(JsonNode counters) =>
        counters["simpleGrainStats"]?.AsArray().Select(g => (string?)g?["grainType"] ?? "") ?? [];

    private async Task<HttpResponseMessage> CallAsync(string path, string? key)
    {
        // Without following redirects, to see where a browser would be sent.
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = fixture.Silo.Client.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (key is not null)
        {
            request.Headers.Add("X-Api-Key", key);
        }

        return await client.SendAsync(request);
    }
}
