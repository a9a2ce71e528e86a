using System.Net;
using System.Net.Sockets;
using Relay.Testing;

namespace Relay.Silo.Tests;

/// <summary>
/// An overload of connections is refused at the door (Relay:Limits:MaxConcurrentConnections) instead of exhausting the
/// silo's file descriptors, and the silo serves again as soon as connections go away.
/// </summary>
public sealed class ConnectionLimitTests : IAsyncLifetime
{
    private TestSilo _silo = null!;

    public async Task InitializeAsync() =>
        _silo = await TestSilo.StartAsync(new Dictionary<string, string?> { ["Relay:Limits:MaxConcurrentConnections"] = "2" });

    public async Task DisposeAsync() => await _silo.DisposeAsync();

    [Fact]
    public async Task A_connection_beyond_the_limit_is_closed_and_the_silo_serves_again_when_one_goes()
    {
        var address = _silo.Client.BaseAddress!;
        var held = new List<TcpClient>();
        try
        {
            // Two idle connections take both places.
            for (var i = 0; i < 2; i++)
            {
                var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, address.Port);
                held.Add(client);
            }

            // The third is accepted by the socket and closed by the server at once: no answer.
            using (var over = NewClient(address))
            {
                await Assert.ThrowsAnyAsync<HttpRequestException>(() => over.GetAsync("/health"));
            }

            foreach (var client in held)
            {
                client.Dispose();
            }

            held.Clear();
            var status = await Eventually.Until(async () =>
            {
                using var client = NewClient(address);
                try
                {
                    using var response = await client.GetAsync("/health");
                    return (HttpStatusCode?)response.StatusCode;
                }
                catch (HttpRequestException)
                {
                    return (HttpStatusCode?)null;
                }
            }, s => s == HttpStatusCode.OK, what: "GET /health answered once the held connections are gone");
            Assert.Equal(HttpStatusCode.OK, status);
        }
        finally
        {
            foreach (var client in held)
            {
                client.Dispose();
            }
        }
    }

    private static HttpClient NewClient(Uri address) =>
        new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero }) { BaseAddress = address, Timeout = TimeSpan.FromSeconds(10) };
}
