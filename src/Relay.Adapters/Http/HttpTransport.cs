using System.Buffers;
using System.Net;
using System.Text;
using Relay.Core.Delivery;
using Relay.Core.Messages;
using Relay.Core.Options;

namespace Relay.Adapters.Http;

/// <summary>What the adapters that speak HTTP (Http, Soap) share: the client, headers, answers and failures.</summary>
internal static class HttpTransport
{
    private static readonly string[] HeadersOfNote = ["Content-Type", "Location", "Retry-After", "ETag", "Date"];

    /// <summary>A client for attempts: no redirects, cookies, proxy or decompression; each attempt sets its own timeout.</summary>
    /// <param name="ssl">A destination's own TLS settings (client certificate, trusted CA); null: the defaults.</param>
    public static HttpClient CreateClient(TimeSpan connectTimeout, TimeSpan pooledConnectionLifetime, System.Net.Security.SslClientAuthenticationOptions? ssl = null) =>
        new(new SocketsHttpHandler
        {
            SslOptions = ssl ?? new(),
            ConnectTimeout = connectTimeout,
            PooledConnectionLifetime = pooledConnectionLifetime,
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.None,
            MaxResponseHeadersLength = 64, // KiB
            // Ids and header values may be any printable text: send them as UTF-8 rather than refuse them.
            RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8,
            // One char per byte: ResponseText turns the bytes into text, faithfully (see WireText).
            ResponseHeaderEncodingSelector = (_, _) => Encoding.Latin1,
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };

    /// <summary>
    /// The message's headers, less those the destination keeps for itself (<see cref="DestinationHeaders"/>: refused
    /// at acceptance, but a message may have been stored before), then the destination's configured headers, last, so
    /// that they win. <paramref name="protocolOwns"/> names headers the protocol sets itself, from neither.
    /// </summary>
    /// <param name="secrets">Reads a configured header value given as a secret reference (<see cref="SecretReference"/>).</param>
    public static void SetHeaders(HttpRequestMessage request, OutboundMessage message, DestinationOptions destination, SecretReader secrets, Func<string, bool>? protocolOwns = null)
    {
        foreach (var (name, value) in message.Headers)
        {
            if (protocolOwns?.Invoke(name) != true && DestinationHeaders.Refusal(destination, name) is null)
            {
                SetHeader(request, name, value);
            }
        }

        foreach (var (name, value) in destination.Headers)
        {
            if (protocolOwns?.Invoke(name) != true)
            {
                SetHeader(request, name, secrets.Resolve(value, $"Relay:Destinations:{message.DestinationName}:Headers:{name}") ?? "");
            }
        }
    }

    /// <summary>
    /// The headers every Relay delivery over HTTP carries (docs/API.md): <c>Idempotency-Key</c> (the message id, the
    /// same on every attempt), <c>X-Relay-Attempt</c>, and <c>X-Relay-Correlation-Id</c> when the message has one.
    /// </summary>
    public static void SetRelayHeaders(HttpRequestMessage request, OutboundMessage message)
    {
        request.Headers.TryAddWithoutValidation("Idempotency-Key", message.MessageId);
        request.Headers.TryAddWithoutValidation("X-Relay-Attempt", message.Attempt.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (message.CorrelationId is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Relay-Correlation-Id", message.CorrelationId);
        }
    }

    /// <summary>Sets a header on the request, or on its content when it is a content header.</summary>
    public static void SetHeader(HttpRequestMessage request, string name, string value)
    {
        request.Headers.Remove(name);
        if (!request.Headers.TryAddWithoutValidation(name, value))
        {
            request.Content!.Headers.Remove(name);
            request.Content.Headers.TryAddWithoutValidation(name, value);
        }
    }

    /// <summary>The answer's <c>Retry-After</c>, when in the future, capped at <paramref name="max"/>.</summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage response, DateTimeOffset now, TimeSpan max)
    {
        var retryAfter = response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - now,
            _ => (TimeSpan?)null,
        };
        if (retryAfter is not { } ra || ra <= TimeSpan.Zero)
        {
            return null;
        }

        return ra > max ? max : ra;
    }

    /// <summary>
    /// The body, up to <paramref name="limit"/> bytes, as <see cref="ResponseText"/> (NUL and bytes that are not UTF-8
    /// escaped, so that any store keeps it as it came); the rest is not read (disposing the answer closes the connection).
    /// </summary>
    /// <remarks>
    /// The bytes are read into a pooled array no longer than the body's <c>Content-Length</c> (when it is known): a new
    /// array of <paramref name="limit"/> bytes (64 KiB) per attempt, even for an empty body, was more than half of what
    /// the silo allocated per delivered message (issue 14).
    /// </remarks>
    public static async Task<string?> ReadBodyAsync(HttpResponseMessage response, int limit, CancellationToken cancellationToken)
    {
        var length = response.Content.Headers.ContentLength;
        if (limit <= 0 || length == 0)
        {
            return null;
        }

        var size = length is { } known && known < limit ? (int)known : limit;
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            var read = 0;
            while (read < size)
            {
                var n = await stream.ReadAsync(buffer.AsMemory(read, size - read), cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }

                read += n;
            }

            return read == 0 ? null : ResponseText.FromBytes(buffer.AsSpan(0, read));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>A status line's reason phrase as storable text (it is read from the wire like a header value).</summary>
    public static string? ReasonPhrase(HttpResponseMessage response) =>
        response.ReasonPhrase is { } phrase ? ResponseText.FromWireText(phrase) : null;

    /// <summary>The headers of note, their values as <see cref="ResponseText"/>.</summary>
    public static Dictionary<string, string>? NotableHeaders(HttpResponseMessage response)
    {
        Dictionary<string, string>? result = null;
        foreach (var name in HeadersOfNote)
        {
            // As received: the validated view would re-render typed values (a Location as an escaped URI).
            if (response.Headers.NonValidated.TryGetValues(name, out var values)
                || response.Content.Headers.NonValidated.TryGetValues(name, out values))
            {
                (result ??= new(StringComparer.OrdinalIgnoreCase))[name] = ResponseText.FromWireText(string.Join(", ", values));
            }
        }

        return result;
    }

    /// <summary>A failure without an answer, as a person reads it: <c>Connection refused</c>, <c>TLS handshake failed</c>...</summary>
    public static string Describe(HttpRequestException ex) =>
        SocketFailure.Describe(ex.InnerException) ?? ex.HttpRequestError switch
        {
            HttpRequestError.ResponseEnded => "Connection closed before the response",
            HttpRequestError.InvalidResponse => "Invalid HTTP response",
            HttpRequestError.SecureConnectionError => HandshakeFailure(ex),
            HttpRequestError.NameResolutionError => "Host not found",
            _ => "Request failed: " + ex.HttpRequestError,
        };

    /// <summary>
    /// <c>TLS handshake failed: The remote certificate is invalid ... UntrustedRoot</c>: the reason .NET gives, for the
    /// audit (an operator can tell a wrong CA from a refused client certificate). Certificate subjects may be quoted;
    /// they are not secrets.
    /// </summary>
    private static string HandshakeFailure(HttpRequestException ex)
    {
        for (var inner = ex.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is System.Security.Authentication.AuthenticationException or IOException && !string.IsNullOrWhiteSpace(inner.Message))
            {
                var reason = inner.Message.Trim();
                return "TLS handshake failed: " + (reason.Length > 300 ? reason[..300] + "…" : reason);
            }
        }

        return "TLS handshake failed";
    }
}
