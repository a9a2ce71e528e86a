using Relay.Core.Delivery;

namespace Relay.Adapters.Http;

/// <summary>
/// Attempts over HTTP, as the adapters that speak it (Http, Soap) make them: one client for all of them, each request
/// bounded by its attempt's timeout, the answer's body read up to <see cref="HttpTransportOptions.MaxResponseBodyBytes"/>,
/// and a failure without an answer (no connection, a timeout) retryable, worded as a person reads it.
/// </summary>
internal sealed class HttpAttempts : IDisposable
{
    private readonly HttpClient _client;
    private readonly HttpTransportOptions _options;
    private readonly TimeProvider _time;

    public HttpAttempts(HttpTransportOptions options, TimeProvider time)
    {
        _options = options;
        _time = time;
        _client = HttpTransport.CreateClient(options.ConnectTimeout, options.PooledConnectionLifetime);
    }

    public DateTimeOffset Now => _time.GetUtcNow();

    /// <summary>
    /// Sends <paramref name="request"/>; <paramref name="answered"/> makes the result of the response and its body.
    /// A failure without an answer goes to <paramref name="failed"/> (the adapter logs it) and is retryable.
    /// </summary>
    public async Task<AttemptResult> SendAsync(HttpRequestMessage request, TimeSpan timeout, Func<HttpResponseMessage, string?, AttemptResult> answered,
        Action<string> failed, CancellationToken cancellationToken)
    {
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        try
        {
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeoutSource.Token).ConfigureAwait(false);
            var body = await HttpTransport.ReadBodyAsync(response, _options.MaxResponseBodyBytes, timeoutSource.Token).ConfigureAwait(false);
            return answered(response, body);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return AttemptResult.Retryable($"No answer within {timeout.TotalSeconds:0.###} s (timeout)");
        }
        catch (HttpRequestException ex)
        {
            var error = HttpTransport.Describe(ex);
            failed(error);
            return AttemptResult.Retryable(error);
        }
    }

    /// <summary>The answer's <c>Retry-After</c>, when in the future, capped at <see cref="HttpTransportOptions.MaxRetryAfter"/>.</summary>
    public TimeSpan? RetryAfter(HttpResponseMessage response) => HttpTransport.RetryAfter(response, _time.GetUtcNow(), _options.MaxRetryAfter);

    public void Dispose() => _client.Dispose();
}
