using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Relay.Adapters.Http;
using Relay.Contracts;
using Relay.Core.Delivery;
using Relay.Core.Options;

namespace Relay.Adapters.Soap;

/// <summary>
/// Delivers to SOAP services (<c>Protocol: Soap</c>): the payload is the body content, wrapped in a SOAP 1.1 or 1.2
/// envelope (or sent as it is when it already is one), POSTed to the address with the destination's <c>SoapAction</c>,
/// an optional WS-Security UsernameToken, the message's headers with the destination's configured headers over them,
/// and the HTTP headers every Relay delivery carries (<c>Idempotency-Key</c>,
/// <c>X-Relay-Attempt</c>, <c>X-Relay-Correlation-Id</c>). Failures are classified by <see cref="SoapFailureClassifier"/>.
/// </summary>
public sealed partial class SoapAdapter : IProtocolAdapter<SoapDestinationOptions>, IDisposable
{
    private readonly HttpClient _client;
    private readonly SoapAdapterOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<SoapAdapter> _logger;

    public SoapAdapter(IOptions<SoapAdapterOptions> options, TimeProvider time, ILogger<SoapAdapter> logger)
    {
        _options = options.Value;
        _time = time;
        _logger = logger;
        _client = HttpTransport.CreateClient(_options.ConnectTimeout, _options.PooledConnectionLifetime);
    }

    public string Protocol => "Soap";

    public async Task<AttemptResult> SendAsync(OutboundMessage message, SoapDestinationOptions destination, TimeSpan timeout, CancellationToken cancellationToken)
    {
        // Checked at start-up (SoapDestinationValidator); options built by hand may still carry another.
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
            var body = await HttpTransport.ReadBodyAsync(response, _options.MaxResponseBodyBytes, timeoutSource.Token).ConfigureAwait(false);
            var code = (int)response.StatusCode;
            var fault = SoapFault.Read(body);
            var outcome = SoapFailureClassifier.Classify(code, fault, destination.RetryOnServerFault);
            return new AttemptResult
            {
                Outcome = outcome,
                StatusCode = code,
                Error = outcome == AttemptOutcome.Success ? null : Describe(code, HttpTransport.ReasonPhrase(response), fault),
                Headers = HttpTransport.NotableHeaders(response),
                Body = body,
                RetryAfter = outcome == AttemptOutcome.RetryableFailure ? HttpTransport.RetryAfter(response, _time.GetUtcNow(), _options.MaxRetryAfter) : null,
            };
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return AttemptResult.Retryable($"No answer within {timeout.TotalSeconds:0.###} s (timeout)");
        }
        catch (HttpRequestException ex)
        {
            var error = HttpTransport.Describe(ex);
            Log.AttemptFailed(_logger, message.MessageId, message.DestinationName, error);
            return AttemptResult.Retryable(error);
        }
    }

    private static HttpRequestMessage BuildRequest(OutboundMessage message, SoapDestinationOptions destination, SoapVersion version, byte[] envelope)
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
        // The envelope's content type is the protocol's, whatever the message or the configuration says.
        HttpTransport.SetHeaders(request, message, destination, name => name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase));

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

    public void Dispose() => _client.Dispose();

    private static partial class Log
    {
        [LoggerMessage(EventId = 2101, Level = LogLevel.Debug, Message = "SOAP attempt of message {MessageId} to {Destination} failed: {Error}")]
        public static partial void AttemptFailed(ILogger logger, string messageId, string destination, string error);
    }
}
