using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Relay.Silo.Tests;

/// <summary>
/// Clients of a silo on 127.0.0.1 that connect from a chosen loopback address (127.0.0.2, ...): every 127/8 address is
/// this machine's, so one test process can be several clients, as a per-address limit sees them.
/// </summary>
internal static partial class ClientFrom
{
    /// <summary>An <see cref="HttpClient"/> whose connections come from <paramref name="source"/>; cookies are the caller's to send.</summary>
    public static HttpClient Http(Uri baseAddress, string source) => new(new SocketsHttpHandler
    {
        UseCookies = false,
        AllowAutoRedirect = false,
        ConnectCallback = async (context, cancel) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Bind(new IPEndPoint(IPAddress.Parse(source), 0));
                await socket.ConnectAsync(IPAddress.Parse(context.DnsEndPoint.Host), context.DnsEndPoint.Port, cancel);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    })
    { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>A raw TCP connection from <paramref name="source"/> to <paramref name="port"/> on 127.0.0.1.</summary>
    public static async Task<TcpClient> TcpAsync(string source, int port)
    {
        var client = new TcpClient(new IPEndPoint(IPAddress.Parse(source), 0));
        await client.ConnectAsync(IPAddress.Loopback, port);
        return client;
    }

    /// <summary>
    /// Sends <c>GET path</c> on a raw connection and reads the answer's head, and its body when the server closes the
    /// connection after it; <c>null</c> when the server closed the connection unanswered.
    /// </summary>
    public static async Task<string?> GetRawAsync(TcpClient client, string path)
    {
        var stream = client.GetStream();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), timeout.Token);
            var buffer = new byte[16384];
            var read = 0;
            while (read < buffer.Length)
            {
                var n = await stream.ReadAsync(buffer.AsMemory(read), timeout.Token);
                if (n == 0)
                {
                    break;
                }

                read += n;
                var text = System.Text.Encoding.ASCII.GetString(buffer, 0, read);
                var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
                if (end < 0)
                {
                    continue;
                }

                // The whole answer: by its length, or its last chunk; else the server closes the connection after it.
                if (ContentLength().Match(text[..end]) is { Success: true } length
                    ? read >= end + 4 + int.Parse(length.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)
                    : text[..end].Contains("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase) && text.EndsWith("0\r\n\r\n", StringComparison.Ordinal))
                {
                    break;
                }
            }

            return read == 0 ? null : System.Text.Encoding.ASCII.GetString(buffer, 0, read);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>The cookies a response sets, as <c>name=value</c> pairs for a <c>Cookie</c> header, with their attributes.</summary>
    public static IReadOnlyDictionary<string, (string Pair, string Attributes)> SetCookies(HttpResponseMessage response) =>
        (response.Headers.TryGetValues("Set-Cookie", out var values) ? values : [])
            .Select(v => (Pair: v.Split(';')[0], Attributes: v))
            .ToDictionary(c => c.Pair.Split('=')[0], c => c, StringComparer.Ordinal);

    /// <summary>The portal's antiforgery token in a page.</summary>
    public static string FormToken(string html) => AntiforgeryField().Match(html) is { Success: true } match
        ? WebUtility.HtmlDecode(match.Groups[1].Value)
        : throw new InvalidOperationException("No antiforgery token in the page: " + html[..Math.Min(html.Length, 500)]);

    /// <summary>
    /// Signs in to the portal with <paramref name="key"/> as a browser would (the page, then its form); answers the
    /// form's response and the cookies to send from then on.
    /// </summary>
    public static async Task<(HttpResponseMessage Response, string Cookies)> SignInAsync(HttpClient client, string key,
        Action<HttpRequestMessage>? each = null)
    {
        using var page = new HttpRequestMessage(HttpMethod.Get, "/portal/login");
        each?.Invoke(page);
        using var pageResponse = await client.SendAsync(page);
        var html = await pageResponse.Content.ReadAsStringAsync();
        var antiforgery = string.Join("; ", SetCookies(pageResponse).Values.Select(c => c.Pair));
        using var form = new HttpRequestMessage(HttpMethod.Post, "/portal/login")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["key"] = key,
                ["returnUrl"] = "/portal",
                ["__relay_csrf"] = FormToken(html),
            }),
        };
        form.Headers.Add("Cookie", antiforgery);
        each?.Invoke(form);
        var response = await client.SendAsync(form);
        var session = SetCookies(response).TryGetValue("relay.portal", out var cookie) ? cookie.Pair : null;
        return (response, session is null ? antiforgery : antiforgery + "; " + session);
    }

    [GeneratedRegex("Content-Length: (\\d+)", RegexOptions.IgnoreCase)]
    private static partial Regex ContentLength();

    [GeneratedRegex("name=\"__relay_csrf\"[^>]*value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}
