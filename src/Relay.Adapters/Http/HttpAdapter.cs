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
/// headers, the destination's configured headers over them, and <c>Idempotency-Key</c>, <c>X-Relay-Attempt</c>,
/// <c>X-Relay-Correlation-Id</c>.
/// </summary>
public sealed partial class HttpAdapter : IProtocolAdapter<HttpDestinationOptions>, IDisposable
{
    private readonly HttpClient _client;
    private readonly HttpAdapterOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<HttpAdapter> _logger;

    public HttpAdapter(IOptions<HttpAdapterOptions> options, TimeProvider time, ILogger<HttpAdapter> logger)
    {
        _options = options.Value;
        _time = time;
        _logger = logger;
        _client = HttpTransport.CreateClient(_options.ConnectTimeout, _options.PooledConnectionLifetime);
    }

    public string Protocol => "Http";

    public async Task<AttemptResult> SendAsync(OutboundMessage message, HttpDestinationOptions destination, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        using var request = BuildRequest(message, destination);
        try
        {
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeoutSource.Token).ConfigureAwait(false);
            var body = await HttpTransport.ReadBodyAsync(response, _options.MaxResponseBodyBytes, timeoutSource.Token).ConfigureAwait(false);
            var code = (int)response.StatusCode;
            var outcome = HttpFailureClassifier.Classify(code);
            var retryAfter = HttpTransport.RetryAfter(response, _time.GetUtcNow(), _options.MaxRetryAfter);
            return new AttemptResult
            {
                Outcome = outcome,
                StatusCode = code,
                Error = outcome == AttemptOutcome.Success ? null : $"{code} {HttpTransport.ReasonPhrase(response)}".TrimEnd(),
                Headers = HttpTransport.NotableHeaders(response),
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
            var error = HttpTransport.Describe(ex);
            Log.AttemptFailed(_logger, message.MessageId, message.DestinationName, error);
            return AttemptResult.Retryable(error);
        }
    }

    private static HttpRequestMessage BuildRequest(OutboundMessage message, HttpDestinationOptions destination)
    {
        var request = new HttpRequestMessage(new HttpMethod(destination.Method), destination.Address)
        {
            Version = HttpVersion.Version11,
        };
        var content = new ReadOnlyMemoryContent(message.Payload);
        content.Headers.TryAddWithoutValidation("Content-Type", message.ContentType);
        request.Content = content;
        HttpTransport.SetHeaders(request, message, destination);

        request.Headers.TryAddWithoutValidation("Idempotency-Key", message.MessageId);
        request.Headers.TryAddWithoutValidation("X-Relay-Attempt", message.Attempt.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (message.CorrelationId is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Relay-Correlation-Id", message.CorrelationId);
        }

        return request;
    }

    public void Dispose() => _client.Dispose();

    private static partial class Log
    {
        [LoggerMessage(EventId = 2001, Level = LogLevel.Debug, Message = "Attempt of message {MessageId} to {Destination} failed: {Error}")]
        public static partial void AttemptFailed(ILogger logger, string messageId, string destination, string error);
    }
}
