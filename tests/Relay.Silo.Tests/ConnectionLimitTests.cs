using System.Net.Sockets;

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
    public async Task Limit_connections_are_served_the_next_is_closed_and_the_silo_serves_again_when_one_goes()
    {
        var address = _silo.Client.BaseAddress!;
        var held = new List<TcpClient>();
        try
        {
            // Connections that have had an answer are surely counted by the server: open them one at a time and keep
            // them. Nothing else connects to this silo (its HttpClient has sent nothing), so exactly Limit are served.
            var answers = new List<string?>();
            for (var i = 0; i <= Limit; i++)
            {
                answers.Add(await AnswerOfAsync(await HoldAsync(held, address)));
            }

            Assert.All(answers.Take(Limit), Assert.NotNull);
            Assert.Null(answers[Limit]);

            // One served connection goes (and the refused one): its place is free again, and only its place.
            foreach (var gone in (TcpClient[])[held[0], held[Limit]])
            {
                gone.Dispose();
                held.Remove(gone);
            }

            await Eventually.Until(async () =>
            {
                var client = await HoldAsync(held, address);
                if (await AnswerOfAsync(client) is not null)
                {
                    return true;
                }

                client.Dispose();
                held.Remove(client);
                return false;
            }, served => served, what: "a connection served once one of the held ones is gone");
            Assert.Equal(Limit, held.Count);
            Assert.Null(await AnswerOfAsync(await HoldAsync(held, address)));
        }
        finally
        {
            foreach (var client in held)
            {
                client.Dispose();
            }
        }
    }

    /// <summary>Opens a connection to the silo and keeps it in <paramref name="held"/> (disposed by the test).</summary>
    private static async Task<TcpClient> HoldAsync(List<TcpClient> held, Uri address)
    {
        var client = new TcpClient();
        held.Add(client);
        await client.ConnectAsync(IPAddress.Loopback, address.Port);
        return client;
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
