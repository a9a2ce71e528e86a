using System.Net;
using System.Net.Sockets;
using Relay.Testing;

namespace Relay.Silo.Tests;

/// <summary>
/// A silo with keys whose clients may make 5 requests an hour and hold 3 connections: small enough to reach in a test.
/// Each test is its own client (its own loopback address, or its own key).
/// </summary>
public sealed class LimitedSilo : IAsyncLifetime
{
    public const string OpsKey = "ops-key-d4c1b8a07e";
    public const string Ops2Key = "ops2-key-9e5f2c6a13";
    public const int Requests = 5;
    public const int Connections = 3;

    public TestSilo Silo { get; private set; } = null!;

    public async Task InitializeAsync() => Silo = await TestSilo.StartAsync(new Dictionary<string, string?>
    {
        ["Relay:Security:OperatorKeys:ops"] = OpsKey,
        ["Relay:Security:OperatorKeys:ops2"] = Ops2Key,
        ["Relay:Limits:PerClient:Requests"] = Requests.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Relay:Limits:PerClient:Window"] = "01:00:00",
        ["Relay:Limits:PerClient:Connections"] = Connections.ToString(System.Globalization.CultureInfo.InvariantCulture),
    });

    public async Task DisposeAsync() => await Silo.DisposeAsync();
}

/// <summary>Per-client request-rate and connection limits (issue 15, item 13).</summary>
public sealed class ClientLimitTests(LimitedSilo fixture) : IClassFixture<LimitedSilo>
{
    private int Port => fixture.Silo.Client.BaseAddress!.Port;

    private static Task<HttpResponseMessage> GetAsync(HttpClient client, string path, string? key)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (key is not null)
        {
            request.Headers.Add("X-Api-Key", key);
        }

        return client.SendAsync(request);
    }

    [Fact]
    public async Task A_key_beyond_its_request_rate_is_answered_429_and_another_key_from_the_same_address_is_not()
    {
        using var client = ClientFrom.Http(fixture.Silo.Client.BaseAddress!, "127.0.0.2");
        for (var i = 0; i < LimitedSilo.Requests; i++)
        {
            using var allowed = await GetAsync(client, "/destinations", LimitedSilo.OpsKey);
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        }

        using var refused = await GetAsync(client, "/destinations", LimitedSilo.OpsKey);
        var problem = await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.TooManyRequests);
        Assert.Contains("Too many requests", (string?)problem["title"], StringComparison.Ordinal);
        // Five tokens an hour, one back every 12 minutes.
        Assert.InRange(refused.Headers.RetryAfter?.Delta ?? TimeSpan.Zero, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(12));

        using var otherKey = await GetAsync(client, "/destinations", LimitedSilo.Ops2Key);
        Assert.Equal(HttpStatusCode.OK, otherKey.StatusCode);
    }

    [Fact]
    public async Task Requests_without_a_key_count_by_address()
    {
        using var client = ClientFrom.Http(fixture.Silo.Client.BaseAddress!, "127.0.0.3");
        for (var i = 0; i < LimitedSilo.Requests; i++)
        {
            using var health = await GetAsync(client, "/health", key: null);
            Assert.NotEqual(HttpStatusCode.TooManyRequests, health.StatusCode);
        }

        await ProblemAssert.IsProblemAsync(GetAsync(client, "/health", key: null), HttpStatusCode.TooManyRequests);

        using var other = ClientFrom.Http(fixture.Silo.Client.BaseAddress!, "127.0.0.4");
        using var elsewhere = await GetAsync(other, "/health", key: null);
        Assert.NotEqual(HttpStatusCode.TooManyRequests, elsewhere.StatusCode);
    }

    [Fact]
    public async Task A_connection_beyond_an_addresss_limit_is_answered_429_and_closed_and_another_address_is_not_limited()
    {
        var held = new List<TcpClient>();
        try
        {
            for (var i = 0; i < LimitedSilo.Connections; i++)
            {
                var connection = await ClientFrom.TcpAsync("127.0.0.5", Port);
                held.Add(connection);
                // An answer (a 401: no key) shows the server has counted the connection.
                Assert.StartsWith("HTTP/1.1 401", await ClientFrom.GetRawAsync(connection, "/destinations"), StringComparison.Ordinal);
            }

            using (var beyond = await ClientFrom.TcpAsync("127.0.0.5", Port))
            {
                var answer = await ClientFrom.GetRawAsync(beyond, "/destinations");
                Assert.NotNull(answer);
                Assert.StartsWith("HTTP/1.1 429", answer, StringComparison.Ordinal);
                Assert.Contains("Retry-After: 1", answer, StringComparison.OrdinalIgnoreCase);
                Assert.Contains("Connection: close", answer, StringComparison.OrdinalIgnoreCase);
                Assert.Contains("application/problem+json", answer, StringComparison.Ordinal);
                Assert.Contains("Too many connections", answer, StringComparison.Ordinal);
            }

            using (var elsewhere = await ClientFrom.TcpAsync("127.0.0.6", Port))
            {
                Assert.StartsWith("HTTP/1.1 401", await ClientFrom.GetRawAsync(elsewhere, "/destinations"), StringComparison.Ordinal);
            }

            // One held connection goes: the address may connect again.
            held[0].Dispose();
            held.RemoveAt(0);
            var again = await Eventually.Until(async () =>
            {
                using var connection = await ClientFrom.TcpAsync("127.0.0.5", Port);
                return await ClientFrom.GetRawAsync(connection, "/destinations");
            }, a => a?.StartsWith("HTTP/1.1 401", StringComparison.Ordinal) == true, what: "a new connection from 127.0.0.5 served once one of its connections closed");
            Assert.StartsWith("HTTP/1.1 401", again, StringComparison.Ordinal);
        }
        finally
        {
            foreach (var connection in held)
            {
                connection.Dispose();
            }
        }
    }
}
