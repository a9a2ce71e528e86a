using System.Net;
using Relay.Testing;

namespace Relay.Silo.Tests;

/// <summary>
/// A silo with keys (<c>ops</c>, <c>ops2</c>, <c>shop</c>) that blocks an address after 3 failed authentications in an
/// hour. Each test is its own client: it connects from its own loopback address.
/// </summary>
public sealed class FailedAuthSilo : IAsyncLifetime
{
    public const string OpsKey = "ops-key-1b7e40c2d9";
    public const string Ops2Key = "ops2-key-8c2d5a0f71";
    public const string ShopKey = "shop-key-57aa9e03c4";
    public const int Limit = 3;

    public TestSilo Silo { get; private set; } = null!;

    public async Task InitializeAsync() => Silo = await TestSilo.StartAsync(new Dictionary<string, string?>
    {
        ["Relay:Security:OperatorKeys:ops"] = OpsKey,
        ["Relay:Security:OperatorKeys:ops2"] = Ops2Key,
        ["Relay:Security:SenderKeys:shop"] = ShopKey,
        ["Relay:Security:FailedAuth:Limit"] = Limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Relay:Security:FailedAuth:Window"] = "01:00:00",
    });

    public async Task DisposeAsync() => await Silo.DisposeAsync();
}

/// <summary>Failed authentication is throttled per client address (issue 15, item 10).</summary>
public sealed class FailedAuthTests(FailedAuthSilo fixture) : IClassFixture<FailedAuthSilo>
{
    private static Task<HttpResponseMessage> GetAsync(HttpClient client, string path, string? key, string? forwardedFor = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (key is not null)
        {
            request.Headers.Add("X-Api-Key", key);
        }

        if (forwardedFor is not null)
        {
            request.Headers.Add("X-Forwarded-For", forwardedFor);
        }

        return client.SendAsync(request);
    }

    [Fact]
    public async Task Wrong_keys_beyond_the_limit_are_answered_429_while_keys_that_worked_from_the_address_still_work()
    {
        using var client = ClientFrom.Http(fixture.Silo.Client.BaseAddress!, "127.0.0.2");
        using (var before = await GetAsync(client, "/destinations", FailedAuthSilo.OpsKey))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        for (var i = 0; i < FailedAuthSilo.Limit; i++)
        {
            await ProblemAssert.IsProblemAsync(GetAsync(client, "/destinations", "wrong-" + i), HttpStatusCode.Unauthorized);
        }

        using var blocked = await GetAsync(client, "/destinations", "wrong-again");
        var problem = await ProblemAssert.IsProblemAsync(blocked, HttpStatusCode.TooManyRequests);
        var retryAfter = blocked.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter!.Value, TimeSpan.FromMinutes(55), TimeSpan.FromHours(1));
        Assert.Contains("failed", (string?)problem["title"], StringComparison.OrdinalIgnoreCase);

        // The key that worked from here before still does, for a sender's key as well as after the block...
        using (var known = await GetAsync(client, "/destinations", FailedAuthSilo.OpsKey))
        {
            Assert.Equal(HttpStatusCode.OK, known.StatusCode);
        }

        // ...but a valid key not seen from here is refused like a wrong one: the answer must not tell a guesser it found one.
        await ProblemAssert.IsProblemAsync(GetAsync(client, "/destinations", FailedAuthSilo.Ops2Key), HttpStatusCode.TooManyRequests);
        // A request without a key is no attempt: 401, as ever.
        await ProblemAssert.IsProblemAsync(GetAsync(client, "/destinations", key: null), HttpStatusCode.Unauthorized);

        // Another address is not affected.
        using var other = ClientFrom.Http(fixture.Silo.Client.BaseAddress!, "127.0.0.3");
        await ProblemAssert.IsProblemAsync(GetAsync(other, "/destinations", "wrong"), HttpStatusCode.Unauthorized);
        using var otherValid = await GetAsync(other, "/destinations", FailedAuthSilo.Ops2Key);
        Assert.Equal(HttpStatusCode.OK, otherValid.StatusCode);
    }

    [Fact]
    public async Task Portal_sign_ins_with_wrong_keys_count_with_wrong_API_keys()
    {
        using var client = ClientFrom.Http(fixture.Silo.Client.BaseAddress!, "127.0.0.4");
        await ProblemAssert.IsProblemAsync(GetAsync(client, "/destinations", "wrong-api-key"), HttpStatusCode.Unauthorized);
        for (var i = 1; i < FailedAuthSilo.Limit; i++)
        {
            var (refused, _) = await ClientFrom.SignInAsync(client, "wrong-sign-in-" + i);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        var (blocked, cookies) = await ClientFrom.SignInAsync(client, FailedAuthSilo.OpsKey);
        Assert.Equal(HttpStatusCode.TooManyRequests, blocked.StatusCode);
        Assert.NotNull(blocked.Headers.RetryAfter?.Delta);
        Assert.Contains("Too many failed sign-ins", await blocked.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain("relay.portal=", cookies, StringComparison.Ordinal);

        // And the API's wrong keys from this address are refused too.
        await ProblemAssert.IsProblemAsync(GetAsync(client, "/destinations", "wrong-api-key"), HttpStatusCode.TooManyRequests);
    }

    [Fact]
    public async Task Without_trusted_proxies_X_Forwarded_For_is_ignored()
    {
        using var client = ClientFrom.Http(fixture.Silo.Client.BaseAddress!, "127.0.0.5");
        for (var i = 0; i < FailedAuthSilo.Limit; i++)
        {
            await ProblemAssert.IsProblemAsync(GetAsync(client, "/destinations", "wrong", forwardedFor: $"198.51.100.{i + 1}"), HttpStatusCode.Unauthorized);
        }

        // Each request claimed another client; the silo counted the one it saw.
        await ProblemAssert.IsProblemAsync(GetAsync(client, "/destinations", "wrong", forwardedFor: "198.51.100.99"), HttpStatusCode.TooManyRequests);
    }
}
