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
        _silo = await TestSilo.StartAsync(new Dictionary<string, string?> { ["Relay:Limits:MaxConcurrentConnections"] = Limit.ToString(System.Globalization.CultureInfo.InvariantCulture) });

    public async Task DisposeAsync() => await _silo.DisposeAsync();

    private const int Limit = 3;

    [Fact]
    public async Task A_connection_beyond_the_limit_is_closed_and_the_silo_serves_again_when_one_goes()
    {
        var address = _silo.Client.BaseAddress!;
        var held = new List<TcpClient>();
        try
        {
            // Connections that have had an answer are surely counted by the server. Open them one at a time and keep
            // them; the test's own client may hold a place too, so the one refused comes at the latest after Limit.
            var refused = false;
            for (var i = 0; i <= Limit && !refused; i++)
            {
                var client = new TcpClient();
                held.Add(client);
                await client.ConnectAsync(IPAddress.Loopback, address.Port);
                refused = await AnswerOfAsync(client) is null;
            }

            Assert.True(refused, $"{Limit + 1} connections were all answered; the limit is {Limit}");
            Assert.InRange(held.Count, 1, Limit + 1);

            foreach (var client in held)
            {
                client.Dispose();
            }

            held.Clear();
            var status = await Eventually.Until(async () =>
            {
                using var client = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero }) { BaseAddress = address, Timeout = TimeSpan.FromSeconds(10) };
                try
                {
                    using var response = await client.GetAsync("/health");
                    return (HttpStatusCode?)response.StatusCode;
                }
                catch (HttpRequestException)
                {
                    return null;
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

    /// <summary>Sends GET /health on a raw connection and reads the status line; null when the server closed it unanswered.</summary>
    private static async Task<string?> AnswerOfAsync(TcpClient client)
    {
        var stream = client.GetStream();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await stream.WriteAsync("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"u8.ToArray(), timeout.Token);
            var buffer = new byte[4096];
            var read = 0;
            while (read < buffer.Length)
            {
                var n = await stream.ReadAsync(buffer.AsMemory(read), timeout.Token);
                if (n == 0)
                {
                    break;
                }

                read += n;
                if (System.Text.Encoding.ASCII.GetString(buffer, 0, read).Contains("\r\n\r\n", StringComparison.Ordinal))
                {
                    break;
                }
            }

            var head = System.Text.Encoding.ASCII.GetString(buffer, 0, read);
            return head.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) ? head[..head.IndexOf('\r', StringComparison.Ordinal)] : null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
