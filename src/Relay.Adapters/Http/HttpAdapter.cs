using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Relay.Contracts;
using Relay.Core.Delivery;

namespace Relay.Adapters.Http;

/// <summary>
/// Delivers to HTTP/REST destinations: the payload as the body with its content type, the message's
/// headers, the destination's configured headers over them, and <c>Idempotency-Key</c>, <c>X-Relay-Attempt</c>,
/// <c>X-Relay-Correlation-Id</c>; the destination's credentials (<c>Auth</c>, <c>ClientCertificate</c>: docs/AUTH.md).
/// </summary>
/// <param name="faults">Where a destination whose token endpoint refuses its client is held (the silo's); none in unit tests.</param>
public sealed partial class HttpAdapter(IOptions<HttpAdapterOptions> options, TimeProvider time, ILogger<HttpAdapter> logger, DestinationFaults? faults = null)
    : IProtocolAdapter<HttpDestinationOptions>, IDisposable
{
    private readonly HttpAttempts _http = new(options.Value, time, faults, logger);

    /// <summary>Made once: a method group passed as a delegate is a new delegate on every call.</summary>
    private Func<HttpResponseMessage, string?, AttemptResult>? _answered;

    public string Protocol => "Http";

    public Task<AttemptResult> SendAsync(OutboundMessage message, HttpDestinationOptions destination, TimeSpan timeout, CancellationToken cancellationToken) =>
        _http.SendAsync(message, destination, () => BuildRequest(message, destination, _http.Secrets), timeout, _answered ??= Answered,
            error => Log.AttemptFailed(logger, message.MessageId, message.DestinationName, error), cancellationToken);

    private AttemptResult Answered(HttpResponseMessage response, string? body)
    {
        var code = (int)response.StatusCode;
        var outcome = HttpFailureClassifier.Classify(code);
        return new AttemptResult
        {
            Outcome = outcome,
            StatusCode = code,
            Error = outcome == AttemptOutcome.Success ? null : $"{code} {HttpTransport.ReasonPhrase(response)}".TrimEnd(),
            Headers = HttpTransport.NotableHeaders(response),
            Body = body,
            RetryAfter = _http.RetryAfter(response),
        };
    }

    /// <summary>The configured method as written (methods are case-sensitive): .NET's shared instance when it is a standard one.</summary>
    internal static HttpMethod MethodOf(string method) =>
        HttpMethod.Parse(method) is var known && string.Equals(known.Method, method, StringComparison.Ordinal) ? known : new HttpMethod(method);

    private static HttpRequestMessage BuildRequest(OutboundMessage message, HttpDestinationOptions destination, SecretReader secrets)
    {
        var request = new HttpRequestMessage(MethodOf(destination.Method), destination.Address)
        {
            Version = HttpVersion.Version11,
        };
        var content = new ReadOnlyMemoryContent(message.Payload);
        content.Headers.TryAddWithoutValidation("Content-Type", message.ContentType);
        request.Content = content;
        HttpTransport.SetHeaders(request, message, destination, secrets);
        HttpTransport.SetRelayHeaders(request, message);
        return request;
    }

    public void Dispose() => _http.Dispose();

    private static partial class Log
    {
        [LoggerMessage(EventId = 2001, Level = LogLevel.Debug, Message = "Attempt of message {MessageId} to {Destination} failed: {Error}")]
        public static partial void AttemptFailed(ILogger logger, string messageId, string destination, string error);
    }
}
