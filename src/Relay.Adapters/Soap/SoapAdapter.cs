using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Relay.Adapters.Http;
using Relay.Contracts;
using Relay.Core.Delivery;

namespace Relay.Adapters.Soap;

/// <summary>
/// Delivers to SOAP services (<c>Protocol: Soap</c>): the payload is the body content, wrapped in a SOAP 1.1 or 1.2
/// envelope (or sent as it is when it already is one), POSTed to the address with the destination's <c>SoapAction</c>,
/// an optional WS-Security UsernameToken, the message's headers with the destination's configured headers over them,
/// and the HTTP headers every Relay delivery carries (<c>Idempotency-Key</c>,
/// <c>X-Relay-Attempt</c>, <c>X-Relay-Correlation-Id</c>). Failures are classified by <see cref="SoapFailureClassifier"/>.
/// </summary>
/// <param name="faults">Where a destination whose token endpoint refuses its client is held (the silo's); none in unit tests.</param>
public sealed partial class SoapAdapter(IOptions<SoapAdapterOptions> options, TimeProvider time, ILogger<SoapAdapter> logger, DestinationFaults? faults = null)
    : IProtocolAdapter<SoapDestinationOptions>, IDisposable
{
    private readonly HttpAttempts _http = new(options.Value, time, faults, logger);

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
            var token = string.IsNullOrEmpty(destination.Username) ? null
                : new UsernameToken(destination.Username, _http.Secrets.Resolve(destination.Password, $"Relay:Destinations:{message.DestinationName}:Password"));
            envelope = SoapEnvelope.Build(message.Payload, version, token, _http.Now);
        }
        catch (SoapPayloadException ex)
        {
            // Another attempt would build the same envelope: only an edited payload can succeed.
            return AttemptResult.Final(ex.Message);
        }
        catch (SecretUnavailableException ex)
        {
            return AttemptResult.Retryable(ex.Message);
        }

        return await _http.SendAsync(message, destination, () => BuildRequest(message, destination, version, envelope, _http.Secrets), timeout, (response, body) => Answered(response, body, destination),
            error => Log.AttemptFailed(logger, message.MessageId, message.DestinationName, error), cancellationToken).ConfigureAwait(false);
    }

    private AttemptResult Answered(HttpResponseMessage response, string? body, SoapDestinationOptions destination)
    {
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
            RetryAfter = outcome == AttemptOutcome.RetryableFailure ? _http.RetryAfter(response) : null,
        };
    }

    private static HttpRequestMessage BuildRequest(OutboundMessage message, SoapDestinationOptions destination, SoapVersion version, byte[] envelope, SecretReader secrets)
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
        HttpTransport.SetHeaders(request, message, destination, secrets, name => name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase));

        if (version == SoapVersion.Soap11)
        {
            // SOAP 1.1 (and WS-I Basic Profile) want the header on every request, quoted, empty when there is no action.
            request.Headers.Remove("SOAPAction");
            request.Headers.TryAddWithoutValidation("SOAPAction", Quote(destination.SoapAction ?? ""));
        }

        HttpTransport.SetRelayHeaders(request, message);
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

    public void Dispose() => _http.Dispose();

    private static partial class Log
    {
        [LoggerMessage(EventId = 2101, Level = LogLevel.Debug, Message = "SOAP attempt of message {MessageId} to {Destination} failed: {Error}")]
        public static partial void AttemptFailed(ILogger logger, string messageId, string destination, string error);
    }
}
