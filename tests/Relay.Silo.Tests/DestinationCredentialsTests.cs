using Microsoft.Extensions.Logging;

namespace Relay.Silo.Tests;

/// <summary>
/// Destinations with credentials on a real silo (docs/AUTH.md), against a real authorization server and API on loopback
/// (<see cref="AuthServer"/>): a revoked token renewed within one attempt, audited as two tries; a client its token
/// endpoint refuses holds its destination (shown in <c>GET /destinations</c>) instead of dead-lettering; and the
/// secrets are nowhere an operator looks: logs, portal pages, <c>/destinations</c>, metrics, the dashboard's grain state.
/// </summary>
public sealed class DestinationCredentialsTests : IAsyncLifetime
{
    private const string BearerToken = "static-bearer-token-Hh61";

    private readonly CapturedLogs _logs = new();
    private AuthServer _server = null!;
    private AuthServer _refusing = null!;
    private TestSilo _silo = null!;

    public async Task InitializeAsync()
    {
        _server = await AuthServer.StartAsync();
        _server.ClientSecret = "oauth-client-secret-Zp93";
        _server.BasicPassword = "basic-password-Wc28";
        _refusing = await AuthServer.StartAsync();
        _refusing.Mode = TokenEndpointMode.RefuseClient;
        var settings = new SiloSettings().Contract("patient", 3, "00:00:00.100");
        settings.Destination("oauth", _server.Url("/api"), "patient");
        settings["Relay:Destinations:oauth:Auth:Kind"] = "OAuth2ClientCredentials";
        settings["Relay:Destinations:oauth:Auth:TokenUrl"] = _server.Url("/token");
        settings["Relay:Destinations:oauth:Auth:ClientId"] = _server.ClientId;
        settings["Relay:Destinations:oauth:Auth:ClientSecret"] = _server.ClientSecret;
        settings.Destination("basic", _server.Url("/basic"), "patient");
        settings["Relay:Destinations:basic:Auth:Kind"] = "Basic";
        settings["Relay:Destinations:basic:Auth:Username"] = _server.BasicUser;
        settings["Relay:Destinations:basic:Auth:Password"] = _server.BasicPassword;
        settings.Destination("bearer", _server.Url("/open"), "patient");
        settings["Relay:Destinations:bearer:Auth:Kind"] = "Bearer";
        settings["Relay:Destinations:bearer:Auth:Token"] = BearerToken;
        settings.Destination("refused", _refusing.Url("/api"), "patient");
        settings["Relay:Destinations:refused:Auth:Kind"] = "OAuth2ClientCredentials";
        settings["Relay:Destinations:refused:Auth:TokenUrl"] = _refusing.Url("/token");
        settings["Relay:Destinations:refused:Auth:ClientId"] = "disabled-client";
        settings["Relay:Destinations:refused:Auth:ClientSecret"] = "refused-secret-Lk57";
        _silo = await TestSilo.StartAsync(settings, logs: _logs);
    }

    public async Task DisposeAsync()
    {
        await _silo.DisposeAsync();
        await _server.DisposeAsync();
        await _refusing.DisposeAsync();
    }

    private async Task<JsonNode> SendAsync(string id, string destination)
    {
        var (response, body) = await _silo.SendAndReadAsync(new { id, destination, payload = "{\"n\":1}", contentType = "application/json" });
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {body.ToJsonString()}");
        return body;
    }

    private async Task<JsonNode> DestinationAsync(string name)
    {
        var list = await TestSilo.ReadAsync(await _silo.Client.GetAsync("/destinations"));
        return list["items"]!.AsArray().Single(d => (string?)d!["name"] == name)!;
    }

    [Fact]
    public async Task A_revoked_token_is_renewed_and_the_message_Delivered_in_one_attempt_with_both_tries_audited()
    {
        Assert.Equal("Delivered", (string?)(await SendAsync("before-revoke", "oauth"))["status"]);
        _server.RevokeAll();

        var answer = await SendAsync("after-revoke", "oauth");

        Assert.Equal("Delivered", (string?)answer["status"]);
        Assert.Equal(1, (int?)answer["deliveries"]![0]!["attempts"]);
        Assert.Equal(2, _server.TokenRequests);
        var tries = (await _silo.GetMessageAsync("after-revoke"))!["attempts"]!.AsArray();
        Assert.Equal(2, tries.Count);
        Assert.All(tries, t => Assert.Equal(1, (int?)t!["attempt"]));
        var first = tries.Single(t => (int?)t!["statusCode"] == 401)!;
        Assert.Equal("RetryableFailure", (string?)first["outcome"]);
        Assert.Contains("the OAuth token was renewed and the try repeated at once", (string?)first["error"], StringComparison.Ordinal);
        Assert.Equal("Success", (string?)tries.Single(t => (int?)t!["statusCode"] == 200)!["outcome"]);
    }

    [Fact]
    public async Task A_client_refused_by_its_token_endpoint_holds_the_destination_instead_of_dead_lettering_its_messages()
    {
        var first = await SendAsync("refused-1", "refused");
        Assert.Equal("InRetry", (string?)first["status"]);
        Assert.StartsWith("The token endpoint refused the client (400 invalid_client)", (string?)first["deliveries"]![0]!["lastError"], StringComparison.Ordinal);

        var destination = await Eventually.Until(() => DestinationAsync("refused"), d => d["configurationError"] is not null, what: "the configuration error shown");
        Assert.StartsWith("The token endpoint refused the client (400 invalid_client): a configuration error.", (string?)destination["configurationError"], StringComparison.Ordinal);
        Assert.Equal("OAuth2ClientCredentials", (string?)destination["auth"]);

        // Held as if paused: accepted and answered Pending, nothing attempted, nothing counted, nothing dead-lettered.
        var later = await Task.WhenAll(Enumerable.Range(2, 5).Select(i => SendAsync($"refused-{i}", "refused")));
        Assert.All(later, m => Assert.Equal("Pending", (string?)m["status"]));
        Assert.All(later, m => Assert.Equal(0, (int?)m["deliveries"]![0]!["attempts"]));
        await _silo.WaitForSchedulersAsync();
        var waited = await _silo.GetMessageAsync("refused-1");
        Assert.Equal("InRetry", (string?)waited!["status"]);
        Assert.Equal(1, (int?)waited["deliveries"]![0]!["attempts"]);
        Assert.Equal(1, _refusing.TokenRequests);
        Assert.Empty(_refusing.ApiAuthorizations);
        Assert.Equal(0, (long?)(await DestinationAsync("refused"))["deadLettered"]);
    }

    [Fact]
    public async Task Secrets_are_absent_from_logs_portal_pages_destinations_metrics_and_the_dashboard_grain_state()
    {
        Assert.Equal("Delivered", (string?)(await SendAsync("s-oauth", "oauth"))["status"]);
        Assert.Equal("Delivered", (string?)(await SendAsync("s-basic", "basic"))["status"]);
        Assert.Equal("Delivered", (string?)(await SendAsync("s-bearer", "bearer"))["status"]);
        Assert.Equal("InRetry", (string?)(await SendAsync("s-refused", "refused"))["status"]);
        var accessToken = _server.ApiAuthorizations.First(a => a!.StartsWith("Bearer token-", StringComparison.Ordinal))![7..];
        string[] secrets = [_server.ClientSecret, _server.BasicPassword, BearerToken, "refused-secret-Lk57", accessToken,
            Convert.ToBase64String(Encoding.UTF8.GetBytes(_server.BasicUser + ":" + _server.BasicPassword))];

        var seen = new Dictionary<string, string>
        {
            ["/destinations"] = await GetTextAsync("/destinations"),
            ["/metrics"] = await GetTextAsync("/metrics"),
            ["/portal"] = await GetTextAsync("/portal"),
            ["/portal/messages"] = await GetTextAsync("/portal/messages"),
            ["/messages/s-oauth"] = await GetTextAsync("/messages/s-oauth"),
            ["/messages/s-refused"] = await GetTextAsync("/messages/s-refused"),
        };
        foreach (var id in new[] { "s-oauth", "s-basic", "s-bearer", "s-refused" })
        {
            seen[$"/portal/messages/{id}"] = await GetTextAsync($"/portal/messages/{id}");
        }

        // The dashboard shows a grain's persistent state (its IStorage fields): the deliveries' and the destinations' holds.
        foreach (var (grainType, grainId) in new[]
                 {
                     ("Relay.Grains.Delivery.DeliveryGrain", "oauth/s-oauth"), ("Relay.Grains.Delivery.DeliveryGrain", "basic/s-basic"),
                     ("Relay.Grains.Delivery.DeliveryGrain", "refused/s-refused"), ("Relay.Grains.Destinations.DestinationControlGrain", "0"),
                 })
        {
            seen[$"dashboard state of {grainId}"] = await GetTextAsync($"/dashboard/GrainState?grainId={Uri.EscapeDataString(grainId)}&grainType={grainType}");
        }

        seen["logs"] = string.Join("\n", _logs.Lines);
        Assert.Contains("\"auth\":\"Basic\"", seen["/destinations"], StringComparison.Ordinal);
        foreach (var (where, text) in seen)
        {
            foreach (var secret in secrets)
            {
                Assert.False(text.Contains(secret, StringComparison.Ordinal), $"A secret ({secret[..4]}…) is in {where}");
            }
        }
    }

    private async Task<string> GetTextAsync(string path)
    {
        using var response = await _silo.Client.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {text[..Math.Min(text.Length, 300)]}");
        return text;
    }
}
