using System.Net;
using Relay.Testing;

namespace Relay.Silo.Tests;

/// <summary>
/// Portal sessions (issue 15, item 10): the key behind a session is checked on every request, and the session cookie
/// is <c>Secure</c> when the request came over HTTPS through a trusted proxy.
/// </summary>
public sealed class PortalSessionTests
{
    private const string OpsKey = "ops-key-2e91c07b5d";
    private const string LeavingKey = "leaving-key-6f03d8a1c4";

    private static async Task<HttpStatusCode> PortalAsync(HttpClient client, string cookies)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/portal");
        request.Headers.Add("Cookie", cookies);
        using var response = await client.SendAsync(request);
        if (response.StatusCode == HttpStatusCode.Redirect)
        {
            Assert.Equal("/portal/login", response.Headers.Location?.OriginalString.Split('?')[0].Replace(client.BaseAddress!.ToString().TrimEnd('/'), "", StringComparison.Ordinal));
        }

        return response.StatusCode;
    }

    [Fact]
    public async Task A_session_ends_when_its_key_is_removed_from_the_configuration_and_the_others_go_on()
    {
        // Both silos sign sessions with the same keys (as silos behind a load balancer, or one silo restarted).
        var protection = Path.Combine(Path.GetTempPath(), "relay-tests", "dp-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(protection);
        try
        {
            string staying;
            string leaving;
            await using (var before = await TestSilo.StartAsync(new Dictionary<string, string?>
            {
                ["Relay:Security:OperatorKeys:ops"] = OpsKey,
                ["Relay:Security:OperatorKeys:leaving"] = LeavingKey,
                ["Relay:Security:DataProtectionPath"] = protection,
            }))
            {
                using var client = ClientFrom.Http(before.Client.BaseAddress!, "127.0.0.1");
                var (signedIn, cookies) = await ClientFrom.SignInAsync(client, OpsKey);
                Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
                staying = cookies;
                (signedIn, cookies) = await ClientFrom.SignInAsync(client, LeavingKey);
                Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
                leaving = cookies;
                Assert.Equal(HttpStatusCode.OK, await PortalAsync(client, staying));
                Assert.Equal(HttpStatusCode.OK, await PortalAsync(client, leaving));
            }

            await using var after = await TestSilo.StartAsync(new Dictionary<string, string?>
            {
                ["Relay:Security:OperatorKeys:ops"] = OpsKey,
                ["Relay:Security:DataProtectionPath"] = protection,
            });
            using var again = ClientFrom.Http(after.Client.BaseAddress!, "127.0.0.1");
            Assert.Equal(HttpStatusCode.OK, await PortalAsync(again, staying));
            Assert.Equal(HttpStatusCode.Redirect, await PortalAsync(again, leaving));
        }
        finally
        {
            Directory.Delete(protection, recursive: true);
        }
    }

    [Fact]
    public async Task A_session_ends_when_its_key_is_given_another_value_under_the_same_name()
    {
        var protection = Path.Combine(Path.GetTempPath(), "relay-tests", "dp-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(protection);
        try
        {
            string cookies;
            await using (var before = await TestSilo.StartAsync(new Dictionary<string, string?>
            {
                ["Relay:Security:OperatorKeys:ops"] = OpsKey,
                ["Relay:Security:DataProtectionPath"] = protection,
            }))
            {
                using var client = ClientFrom.Http(before.Client.BaseAddress!, "127.0.0.1");
                (_, cookies) = await ClientFrom.SignInAsync(client, OpsKey);
                Assert.Equal(HttpStatusCode.OK, await PortalAsync(client, cookies));
            }

            await using var after = await TestSilo.StartAsync(new Dictionary<string, string?>
            {
                ["Relay:Security:OperatorKeys:ops"] = "rotated-" + OpsKey,
                ["Relay:Security:DataProtectionPath"] = protection,
            });
            using var again = ClientFrom.Http(after.Client.BaseAddress!, "127.0.0.1");
            Assert.Equal(HttpStatusCode.Redirect, await PortalAsync(again, cookies));
        }
        finally
        {
            Directory.Delete(protection, recursive: true);
        }
    }

    [Fact]
    public async Task Through_a_trusted_proxy_the_cookies_are_Secure_when_the_client_came_over_HTTPS_and_its_address_is_the_forwarded_one()
    {
        await using var silo = await TestSilo.StartAsync(new Dictionary<string, string?>
        {
            ["Relay:Security:OperatorKeys:ops"] = OpsKey,
            ["Relay:Security:FailedAuth:Limit"] = "2",
            ["Relay:Security:FailedAuth:Window"] = "01:00:00",
            ["Relay:ForwardedHeaders:TrustedProxies:0"] = "127.0.0.0/29",
        });
        using var proxy = ClientFrom.Http(silo.Client.BaseAddress!, "127.0.0.6");

        var (overHttps, _) = await ClientFrom.SignInAsync(proxy, OpsKey, r => r.Headers.Add("X-Forwarded-Proto", "https"));
        Assert.Equal(HttpStatusCode.Redirect, overHttps.StatusCode);
        var session = ClientFrom.SetCookies(overHttps)["relay.portal"].Attributes;
        Assert.Contains("; secure", session, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("; httponly", session, StringComparison.OrdinalIgnoreCase);

        var (overHttp, _) = await ClientFrom.SignInAsync(proxy, OpsKey, r => r.Headers.Add("X-Forwarded-Proto", "http"));
        Assert.DoesNotContain("; secure", ClientFrom.SetCookies(overHttp)["relay.portal"].Attributes, StringComparison.OrdinalIgnoreCase);

        // Failed authentications count against the forwarded client, not against the proxy.
        for (var i = 0; i < 2; i++)
        {
            using var wrong = new HttpRequestMessage(HttpMethod.Get, "/destinations");
            wrong.Headers.Add("X-Api-Key", "wrong");
            wrong.Headers.Add("X-Forwarded-For", "198.51.100.7");
            await ProblemAssert.IsProblemAsync(proxy.SendAsync(wrong), HttpStatusCode.Unauthorized);
        }

        using var blocked = new HttpRequestMessage(HttpMethod.Get, "/destinations");
        blocked.Headers.Add("X-Api-Key", "wrong");
        blocked.Headers.Add("X-Forwarded-For", "198.51.100.7");
        await ProblemAssert.IsProblemAsync(proxy.SendAsync(blocked), HttpStatusCode.TooManyRequests);
        using var another = new HttpRequestMessage(HttpMethod.Get, "/destinations");
        another.Headers.Add("X-Api-Key", "wrong");
        another.Headers.Add("X-Forwarded-For", "198.51.100.8");
        await ProblemAssert.IsProblemAsync(proxy.SendAsync(another), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Without_trusted_proxies_X_Forwarded_Proto_does_not_make_the_cookie_Secure()
    {
        await using var silo = await TestSilo.StartAsync(new Dictionary<string, string?> { ["Relay:Security:OperatorKeys:ops"] = OpsKey });
        using var client = ClientFrom.Http(silo.Client.BaseAddress!, "127.0.0.1");

        var (response, _) = await ClientFrom.SignInAsync(client, OpsKey, r => r.Headers.Add("X-Forwarded-Proto", "https"));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.DoesNotContain("; secure", ClientFrom.SetCookies(response)["relay.portal"].Attributes, StringComparison.OrdinalIgnoreCase);
    }
}

/// <summary>Keys in a configuration file that reloads (appsettings.json beside the silo) change without a restart.</summary>
public sealed class KeyReloadTests
{
    private const string OpsKey = "ops-key-a83f1c27e0";
    private const string LeavingKey = "leaving-key-4d9b60e2f8";

    private static Task WriteKeysAsync(string folder, string operatorKeys) =>
        File.WriteAllTextAsync(Path.Combine(folder, "appsettings.json"),
            $$"""{ "Relay": { "Security": { "OperatorKeys": { {{operatorKeys}} } } } }""");

    private static async Task<HttpStatusCode> CallAsync(HttpClient client, string path, string? key = null, string? cookies = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (key is not null)
        {
            request.Headers.Add("X-Api-Key", key);
        }

        if (cookies is not null)
        {
            request.Headers.Add("Cookie", cookies);
        }

        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }

    [Fact]
    public async Task A_key_removed_from_appsettings_json_is_refused_and_its_portal_sessions_end_without_a_restart()
    {
        var folder = Path.Combine(Path.GetTempPath(), "relay-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        await WriteKeysAsync(folder, $"\"ops\": \"{OpsKey}\", \"leaving\": \"{LeavingKey}\"");
        var logs = new CapturedLogs();
        await using var silo = await TestSilo.StartAsync(new Dictionary<string, string?>(), dataPath: folder, logs: logs);
        using var client = ClientFrom.Http(silo.Client.BaseAddress!, "127.0.0.1");
        var (_, staying) = await ClientFrom.SignInAsync(client, OpsKey);
        var (_, leaving) = await ClientFrom.SignInAsync(client, LeavingKey);
        Assert.Equal(HttpStatusCode.OK, await CallAsync(client, "/destinations", LeavingKey));
        Assert.Equal(HttpStatusCode.OK, await CallAsync(client, "/portal", cookies: leaving));

        await WriteKeysAsync(folder, $"\"ops\": \"{OpsKey}\"");

        await Eventually.Until(() => CallAsync(client, "/destinations", LeavingKey), s => s == HttpStatusCode.Unauthorized,
            what: "the removed key refused");
        Assert.Equal(HttpStatusCode.Redirect, await CallAsync(client, "/portal", cookies: leaving));
        Assert.Equal(HttpStatusCode.OK, await CallAsync(client, "/portal", cookies: staying));
        Assert.Equal(HttpStatusCode.OK, await CallAsync(client, "/destinations", OpsKey));

        // A reload that would leave no key, or an empty one, is refused: the keys stay as they were.
        await WriteKeysAsync(folder, "\"ops\": \"\"");
        await Eventually.Until(() => logs.Lines.Any(l => l.Contains("API keys not reloaded", StringComparison.Ordinal)),
            what: "the refused reload logged");
        Assert.Equal(HttpStatusCode.OK, await CallAsync(client, "/destinations", OpsKey));
        Assert.Equal(HttpStatusCode.OK, await CallAsync(client, "/portal", cookies: staying));
    }
}
