using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.Logging;
using Relay.Core.Delivery;

namespace Relay.Adapters.Http;

/// <summary>
/// Attempts over HTTP, as the adapters that speak it (Http, Soap) make them: a pooled client for the destinations
/// without TLS settings of their own and one per destination with a client certificate or a trusted CA (rebuilt when
/// their files change), the destination's credentials (<c>Auth</c>), each request bounded by its attempt's timeout,
/// the answer's body read up to <see cref="HttpTransportOptions.MaxResponseBodyBytes"/>, and a failure without an
/// answer (no connection, a timeout, a refused handshake) retryable, worded as a person reads it.
/// </summary>
internal sealed class HttpAttempts : IDisposable
{
    private readonly HttpClient _client;
    private readonly DestinationClients _clients;
    private readonly HttpTransportOptions _options;
    private readonly TimeProvider _time;
    private readonly OAuthTokens _tokens;

    public HttpAttempts(HttpTransportOptions options, TimeProvider time, DestinationFaults? faults = null, ILogger? logger = null)
    {
        _options = options;
        _time = time;
        Secrets = new SecretReader(time);
        _client = HttpTransport.CreateClient(options.ConnectTimeout, options.PooledConnectionLifetime);
        _clients = new DestinationClients(options, Secrets);
        _tokens = new OAuthTokens(time, faults, options.TokenTimeout, logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
    }

    public DateTimeOffset Now => _time.GetUtcNow();

    /// <summary>The reader of secret references (<see cref="SecretReference"/>) and TLS files.</summary>
    public SecretReader Secrets { get; }

    /// <summary>
    /// Sends the request <paramref name="build"/> makes, with the destination's credentials; <paramref name="answered"/>
    /// makes the result of the response and its body. A failure without an answer goes to <paramref name="failed"/> (the
    /// adapter logs it) and is retryable. With OAuth, a 401 to a token that was cached renews the token and sends a new
    /// request at once, once: the result is the second try's, with the first in <see cref="AttemptResult.Repeated"/>.
    /// </summary>
    public async Task<AttemptResult> SendAsync(OutboundMessage message, HttpTransportDestinationOptions destination, Func<HttpRequestMessage> build,
        TimeSpan timeout, Func<HttpResponseMessage, string?, AttemptResult> answered, Action<string> failed, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        HttpClient client;
        try
        {
            client = _clients.For(message.DestinationName, destination) ?? _client;
        }
        catch (SecretUnavailableException ex)
        {
            return AttemptResult.Retryable(ex.Message);
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return AttemptResult.Retryable($"The client certificate of Relay:Destinations:{message.DestinationName}:ClientCertificate cannot be loaded (not a certificate with its key, or the wrong password)");
        }

        var auth = destination.Auth;
        var lease = default(TokenLease);
        if (auth.Kind == HttpAuthKind.OAuth2ClientCredentials)
        {
            lease = await _tokens.GetAsync(message.DestinationName, () => Credentials(message.DestinationName, auth), client, timeout, cancellationToken).ConfigureAwait(false);
            if (lease.Failure is { } noToken)
            {
                return noToken;
            }
        }

        var first = await SendOnceAsync(client, build, Authorization(message.DestinationName, auth, lease.AccessToken), timeout - _time.GetElapsedTime(started),
            answered, failed, cancellationToken).ConfigureAwait(false);
        if (first.StatusCode != 401 || lease.AccessToken is not { } refused || lease.Fresh)
        {
            return first;
        }

        // A cached token the destination no longer takes (revoked, or its keys rolled): renewed, and the try repeated at
        // once, not counted as an attempt (docs/AUTH.md). A token fetched for this very try is not renewed again.
        var firstTook = _time.GetElapsedTime(started);
        var repeated = new RepeatedTry(first with
        {
            Outcome = Contracts.AttemptOutcome.RetryableFailure,
            Error = $"{first.Error}: the OAuth token was renewed and the try repeated at once (not counted as an attempt)",
        }, firstTook);
        _tokens.Invalidate(message.DestinationName, refused);
        var renewed = await _tokens.GetAsync(message.DestinationName, () => Credentials(message.DestinationName, auth), client,
            timeout - firstTook, cancellationToken).ConfigureAwait(false);
        if (renewed.Failure is { } failure)
        {
            return failure with { Repeated = repeated };
        }

        var second = await SendOnceAsync(client, build, Authorization(message.DestinationName, auth, renewed.AccessToken), timeout - _time.GetElapsedTime(started),
            answered, failed, cancellationToken).ConfigureAwait(false);
        return second with { Repeated = repeated };
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<AttemptResult> SendOnceAsync(HttpClient client, Func<HttpRequestMessage> build, Func<string?> authorization, TimeSpan timeout,
        Func<HttpResponseMessage, string?, AttemptResult> answered, Action<string> failed, CancellationToken cancellationToken)
    {
        if (timeout <= TimeSpan.Zero)
        {
            return AttemptResult.Retryable("No time left for the request after fetching the token (timeout)");
        }

        HttpRequestMessage request;
        try
        {
            request = build();
            if (authorization() is { } value)
            {
                request.Headers.Remove("Authorization");
                request.Headers.TryAddWithoutValidation("Authorization", value);
            }
        }
        catch (SecretUnavailableException ex)
        {
            return AttemptResult.Retryable(ex.Message);
        }

        using var _ = request;
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeoutSource.Token).ConfigureAwait(false);
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

    /// <summary>The value of the <c>Authorization</c> header the destination's <c>Auth</c> gives, read when the request is built.</summary>
    private Func<string?> Authorization(string name, HttpAuthOptions auth, string? accessToken) =>
        auth.Kind == HttpAuthKind.None ? NoAuthorization : AuthorizationOf(name, auth, accessToken);

    private static readonly Func<string?> NoAuthorization = () => null;

    /// <summary>Apart from <see cref="Authorization"/>: its lambdas' captures would otherwise be allocated on every call, none or not.</summary>
    private Func<string?> AuthorizationOf(string name, HttpAuthOptions auth, string? accessToken) => auth.Kind switch
    {
        HttpAuthKind.Basic => () => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(
            auth.Username + ":" + Secrets.Resolve(auth.Password, $"Relay:Destinations:{name}:Auth:Password"))),
        HttpAuthKind.Bearer => () => "Bearer " + Secrets.Resolve(auth.Token, $"Relay:Destinations:{name}:Auth:Token"),
        HttpAuthKind.OAuth2ClientCredentials => () => "Bearer " + accessToken,
        _ => () => null,
    };

    private ClientCredentials Credentials(string name, HttpAuthOptions auth) =>
        new(auth.TokenUrl!, auth.ClientId!, Secrets.Resolve(auth.ClientSecret, $"Relay:Destinations:{name}:Auth:ClientSecret")!, auth.Scope, auth.Audience);

    /// <summary>The answer's <c>Retry-After</c>, when in the future, capped at <see cref="HttpTransportOptions.MaxRetryAfter"/>.</summary>
    public TimeSpan? RetryAfter(HttpResponseMessage response) => HttpTransport.RetryAfter(response, _time.GetUtcNow(), _options.MaxRetryAfter);

    public void Dispose()
    {
        _tokens.Dispose();
        _clients.Dispose();
        _client.Dispose();
    }
}
