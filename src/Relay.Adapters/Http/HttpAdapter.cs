using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Relay.Contracts;
using Relay.Core.Delivery;
using Relay.Core.Options;

namespace Relay.Adapters.Http;

/// <summary>
/// Delivers to HTTP/REST destinations: the payload as the body with its content type, the message's
/// headers, and <c>Idempotency-Key</c>, <c>X-Relay-Attempt</c>, <c>X-Relay-Correlation-Id</c>.
/// </summary>
public sealed partial class HttpAdapter : IProtocolAdapter, IDisposable
{
    private static readonly string[] HeadersOfNote = ["Content-Type", "Location", "Retry-After", "ETag", "Date"];

    private readonly HttpClient _client;
    private readonly HttpAdapterOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<HttpAdapter> _logger;

    public HttpAdapter(IOptions<HttpAdapterOptions> options, TimeProvider time, ILogger<HttpAdapter> logger)
    {
        _options = options.Value;
        _time = time;
        _logger = logger;
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = _options.ConnectTimeout,
            PooledConnectionLifetime = _options.PooledConnectionLifetime,
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.None,
            MaxResponseHeadersLength = 64, // KiB
            // Ids and header values may be any printable text: send them as UTF-8 rather than refuse them.
            RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8,
        };
        _client = new HttpClient(handler) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
    }

    public string Protocol => "Http";

    public async Task<AttemptResult> SendAsync(OutboundMessage message, DestinationOptions destination, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        using var request = BuildRequest(message, destination);
        try
        {
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeoutSource.Token).ConfigureAwait(false);
            var body = await ReadBodyAsync(response, timeoutSource.Token).ConfigureAwait(false);
            var code = (int)response.StatusCode;
            var outcome = HttpFailureClassifier.Classify(code);
            var retryAfter = response.Headers.RetryAfter switch
            {
                { Delta: { } delta } => delta,
                { Date: { } date } => date - _time.GetUtcNow(),
                _ => (TimeSpan?)null,
            };
            if (retryAfter is { } ra && (ra <= TimeSpan.Zero))
            {
                retryAfter = null;
            }
            else if (retryAfter > _options.MaxRetryAfter)
            {
                retryAfter = _options.MaxRetryAfter;
            }

            return new AttemptResult
            {
                Outcome = outcome,
                StatusCode = code,
                Error = outcome == AttemptOutcome.Success ? null : $"{code} {response.ReasonPhrase}".TrimEnd(),
                Headers = NotableHeaders(response),
                Body = body,
                RetryAfter = retryAfter,
            };
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return AttemptResult.Retryable($"No answer within {timeout.TotalSeconds:0.###} s (timeout)");
        }
        catch (HttpRequestException ex)
        {
            var error = Describe(ex);
            Log.AttemptFailed(_logger, message.MessageId, message.DestinationName, error);
            return AttemptResult.Retryable(error);
        }
    }

    private static HttpRequestMessage BuildRequest(OutboundMessage message, DestinationOptions destination)
    {
        var request = new HttpRequestMessage(new HttpMethod(destination.Method), destination.Address)
        {
            Version = HttpVersion.Version11,
        };
        var content = new ReadOnlyMemoryContent(message.Payload);
        content.Headers.TryAddWithoutValidation("Content-Type", message.ContentType);
        request.Content = content;
        foreach (var (name, value) in destination.Headers)
        {
            AddHeader(request, name, value);
        }

        foreach (var (name, value) in message.Headers)
        {
            AddHeader(request, name, value);
        }

        request.Headers.TryAddWithoutValidation("Idempotency-Key", message.MessageId);
        request.Headers.TryAddWithoutValidation("X-Relay-Attempt", message.Attempt.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (message.CorrelationId is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Relay-Correlation-Id", message.CorrelationId);
        }

        return request;
    }

    private static void AddHeader(HttpRequestMessage request, string name, string value)
    {
        request.Headers.Remove(name);
        if (!request.Headers.TryAddWithoutValidation(name, value))
        {
            // Content headers (Content-Language, ...) belong to the content.
            request.Content!.Headers.Remove(name);
            request.Content.Headers.TryAddWithoutValidation(name, value);
        }
    }

    private async Task<string?> ReadBodyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var limit = _options.MaxResponseBodyBytes;
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var buffer = new byte[limit];
        var read = 0;
        while (read < limit)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(read, limit - read), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }

            read += n;
        }

        if (read == 0)
        {
            return null;
        }

        // The rest of a long body is not read: disposing the response closes the connection.
        return Encoding.UTF8.GetString(buffer, 0, read);
    }

    private static Dictionary<string, string>? NotableHeaders(HttpResponseMessage response)
    {
        Dictionary<string, string>? result = null;
        foreach (var name in HeadersOfNote)
        {
            if (response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values))
            {
                (result ??= new(StringComparer.OrdinalIgnoreCase))[name] = string.Join(", ", values);
            }
        }

        return result;
    }

    private static string Describe(HttpRequestException ex)
    {
        var socket = ex.InnerException as SocketException ?? ex.InnerException?.InnerException as SocketException;
        return socket?.SocketErrorCode switch
        {
            SocketError.ConnectionRefused => "Connection refused",
            SocketError.ConnectionReset => "Connection reset",
            SocketError.TimedOut => "Connection timed out",
            SocketError.HostNotFound or SocketError.NoData => "Host not found",
            SocketError.HostUnreachable or SocketError.NetworkUnreachable => "Host unreachable",
            { } code => $"Socket error: {code}",
            null => ex.HttpRequestError switch
            {
                HttpRequestError.ResponseEnded => "Connection closed before the response",
                HttpRequestError.InvalidResponse => "Invalid HTTP response",
                HttpRequestError.SecureConnectionError => "TLS handshake failed",
                HttpRequestError.NameResolutionError => "Host not found",
                _ => "Request failed: " + ex.HttpRequestError,
            },
        };
    }

    public void Dispose() => _client.Dispose();

    private static partial class Log
    {
        [LoggerMessage(EventId = 2001, Level = LogLevel.Debug, Message = "Attempt of message {MessageId} to {Destination} failed: {Error}")]
        public static partial void AttemptFailed(ILogger logger, string messageId, string destination, string error);
    }
}
