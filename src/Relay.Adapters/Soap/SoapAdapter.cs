using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Relay.Contracts;
using Relay.Core.Delivery;
using Relay.Core.Options;

namespace Relay.Adapters.Soap;

/// <summary>
/// Delivers to SOAP services (<c>Protocol: Soap</c>): the payload is the body content, wrapped in a SOAP 1.1 or 1.2
/// envelope (or sent as it is when it already is one), POSTed to the address with the destination's <c>SoapAction</c>,
/// an optional WS-Security UsernameToken, and the HTTP headers every Relay delivery carries (<c>Idempotency-Key</c>,
/// <c>X-Relay-Attempt</c>, <c>X-Relay-Correlation-Id</c>). Failures are classified by <see cref="SoapFailureClassifier"/>.
/// </summary>
public sealed partial class SoapAdapter : IProtocolAdapter, IDisposable
{
    private static readonly string[] HeadersOfNote = ["Content-Type", "Location", "Retry-After", "ETag", "Date"];

    private readonly HttpClient _client;
    private readonly SoapAdapterOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<SoapAdapter> _logger;

    public SoapAdapter(IOptions<SoapAdapterOptions> options, TimeProvider time, ILogger<SoapAdapter> logger)
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
            RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8,
        };
        _client = new HttpClient(handler) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
    }

    public string Protocol => "Soap";

    public async Task<AttemptResult> SendAsync(OutboundMessage message, DestinationOptions destination, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (SoapVersion.Parse(destination.SoapVersion) is not { } version)
        {
            return AttemptResult.Final($"The destination's SoapVersion is '{destination.SoapVersion}'; it must be 1.1 or 1.2 (Relay:Destinations:{message.DestinationName}:SoapVersion).");
        }

        byte[] envelope;
        try
        {
            var token = string.IsNullOrEmpty(destination.Username) ? null : new UsernameToken(destination.Username, destination.Password);
            envelope = SoapEnvelope.Build(message.Payload, version, token, _time.GetUtcNow());
        }
        catch (SoapPayloadException ex)
        {
            // Another attempt would build the same envelope: only an edited payload can succeed.
            return AttemptResult.Final(ex.Message);
        }

        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        using var request = BuildRequest(message, destination, version, envelope);
        try
        {
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeoutSource.Token).ConfigureAwait(false);
            var body = await ReadBodyAsync(response, timeoutSource.Token).ConfigureAwait(false);
            var code = (int)response.StatusCode;
            var fault = SoapFault.Read(body);
            var outcome = SoapFailureClassifier.Classify(code, fault, destination.RetryOnServerFault);
            return new AttemptResult
            {
                Outcome = outcome,
                StatusCode = code,
                Error = outcome == AttemptOutcome.Success ? null : Describe(code, response.ReasonPhrase, fault),
                Headers = NotableHeaders(response),
                Body = body,
                RetryAfter = outcome == AttemptOutcome.RetryableFailure ? RetryAfter(response) : null,
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

    private static HttpRequestMessage BuildRequest(OutboundMessage message, DestinationOptions destination, SoapVersion version, byte[] envelope)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, destination.Address) { Version = HttpVersion.Version11 };
        var content = new ByteArrayContent(envelope);
        var contentType = new MediaTypeHeaderValue(version.MediaType) { CharSet = "utf-8" };
        if (version == SoapVersion.Soap12 && !string.IsNullOrEmpty(destination.SoapAction))
        {
            contentType.Parameters.Add(new NameValueHeaderValue("action", Quote(destination.SoapAction)));
        }

        content.Headers.ContentType = contentType;
        request.Content = content;
        foreach (var (name, value) in destination.Headers)
        {
            AddHeader(request, name, value);
        }

        foreach (var (name, value) in message.Headers)
        {
            AddHeader(request, name, value);
        }

        if (version == SoapVersion.Soap11)
        {
            // SOAP 1.1 (and WS-I Basic Profile) want the header on every request, quoted, empty when there is no action.
            request.Headers.Remove("SOAPAction");
            request.Headers.TryAddWithoutValidation("SOAPAction", Quote(destination.SoapAction ?? ""));
        }

        request.Headers.TryAddWithoutValidation("Idempotency-Key", message.MessageId);
        request.Headers.TryAddWithoutValidation("X-Relay-Attempt", message.Attempt.ToString(CultureInfo.InvariantCulture));
        if (message.CorrelationId is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Relay-Correlation-Id", message.CorrelationId);
        }

        return request;
    }

    private static string Quote(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private static void AddHeader(HttpRequestMessage request, string name, string value)
    {
        // The envelope's content type is the protocol's, whatever the message said.
        if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        request.Headers.Remove(name);
        if (!request.Headers.TryAddWithoutValidation(name, value))
        {
            request.Content!.Headers.Remove(name);
            request.Content.Headers.TryAddWithoutValidation(name, value);
        }
    }

    private TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var retryAfter = response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - _time.GetUtcNow(),
            _ => (TimeSpan?)null,
        };
        if (retryAfter is not { } ra || ra <= TimeSpan.Zero)
        {
            return null;
        }

        return ra > _options.MaxRetryAfter ? _options.MaxRetryAfter : ra;
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

        // The rest of a long body is not read: disposing the response closes the connection.
        return read == 0 ? null : Encoding.UTF8.GetString(buffer, 0, read);
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

    /// <summary><c>SOAP fault Client: Amount must be positive</c>, or <c>503 Service Unavailable</c> when the answer holds no fault.</summary>
    private static string Describe(int statusCode, string? reasonPhrase, SoapFault? fault)
    {
        if (fault is null)
        {
            return $"{statusCode} {reasonPhrase}".TrimEnd();
        }

        const int MaxReason = 500;
        var reason = fault.Reason?.Trim();
        if (reason is { Length: > MaxReason })
        {
            reason = reason[..MaxReason] + "…";
        }

        return string.IsNullOrEmpty(reason) ? $"SOAP fault {fault.Code}" : $"SOAP fault {fault.Code}: {reason}";
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
        [LoggerMessage(EventId = 2101, Level = LogLevel.Debug, Message = "SOAP attempt of message {MessageId} to {Destination} failed: {Error}")]
        public static partial void AttemptFailed(ILogger logger, string messageId, string destination, string error);
    }
}
