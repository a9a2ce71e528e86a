using System.Collections.Concurrent;
using Duende.IdentityModel.Client;
using Microsoft.Extensions.Logging;
using Relay.Core.Delivery;

namespace Relay.Adapters.Http;

/// <summary>The client credentials of a destination, resolved (secrets read): equal values ask for the same token.</summary>
internal sealed record ClientCredentials(string TokenUrl, string ClientId, string ClientSecret, string? Scope, string? Audience)
{
    // Never printed: a record's ToString would show the secret.
    public override string ToString() => $"client '{ClientId}' at {TokenUrl}";
}

/// <summary>A token to send, or why there is none (a failure of the attempt).</summary>
internal readonly record struct TokenLease(string? AccessToken, bool Fresh, AttemptResult? Failure);

/// <summary>
/// The OAuth 2.0 client credentials tokens of this silo's destinations (docs/AUTH.md), one per destination, shared by
/// every delivery to it: fetched once (the deliveries that need it meanwhile wait for that one request), used until
/// shortly before it expires, renewed in the background when its end nears, and dropped when the destination answers
/// 401 to it. A token endpoint that cannot be reached, or answers 5xx/429, fails the attempt as retryable; one that
/// refuses the client (400/401 <c>invalid_client</c>, <c>unauthorized_client</c>, any other 4xx) is a configuration
/// error: the destination is held (<see cref="DestinationFaults"/>) and the endpoint asked again every
/// <see cref="ProbeInterval"/>, with the settings read afresh (a rotated secret), until it gives a token.
/// </summary>
internal sealed partial class OAuthTokens(TimeProvider time, DestinationFaults? faults, TimeSpan fetchTimeout, ILogger logger) : IDisposable
{
    /// <summary>How often a token endpoint that refused the client is asked again.</summary>
    public static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(30);

    /// <summary>Longest a token is renewed ahead of its expiry (a quarter of its lifetime when that is shorter).</summary>
    private static readonly TimeSpan RenewAhead = TimeSpan.FromSeconds(60);

    /// <summary>The lifetime taken when the endpoint answers no <c>expires_in</c>.</summary>
    private static readonly TimeSpan DefaultLifetime = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _disposed = new();

    /// <summary>
    /// The destination's token: the cached one, or a new one (one request for every caller), waiting at most
    /// <paramref name="wait"/> for it.
    /// </summary>
    /// <param name="resolve">Reads the credentials (secrets from their references); the refused endpoint's probe calls it again.</param>
    public async Task<TokenLease> GetAsync(string destination, Func<ClientCredentials> resolve, HttpMessageInvoker client, TimeSpan wait, CancellationToken cancellationToken)
    {
        ClientCredentials credentials;
        try
        {
            credentials = resolve();
        }
        catch (SecretUnavailableException ex)
        {
            return new(null, false, AttemptResult.Retryable(ex.Message));
        }

        var entry = _entries.GetOrAdd(destination, _ => new Entry());
        Task<Fetched> fetching;
        lock (entry)
        {
            entry.Resolve = resolve;
            entry.Client = client;
            if (!credentials.Equals(entry.Credentials))
            {
                // New settings (a rotated secret): whatever was known of the old ones no longer holds.
                entry.Reset(credentials);
                faults?.Clear(destination);
            }

            if (entry.Refused is { } refused)
            {
                return new(null, false, AttemptResult.Retryable(refused));
            }

            var now = time.GetUtcNow();
            if (entry.Token is { } token && now < entry.ExpiresAt)
            {
                if (now >= entry.RenewAt && entry.Fetching is null)
                {
                    entry.Fetching = FetchAsync(destination, entry, credentials, client);
                }

                return new(token, false, null);
            }

            fetching = entry.Fetching ??= FetchAsync(destination, entry, credentials, client);
        }

        Fetched fetched;
        try
        {
            fetched = await fetching.WaitAsync(wait, time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return new(null, false, AttemptResult.Retryable($"No token from the token endpoint within {wait.TotalSeconds:0.###} s (timeout)"));
        }

        return fetched.Token is { } fresh ? new(fresh, true, null) : new(null, false, fetched.Failure);
    }

    /// <summary>The destination answered 401 to <paramref name="token"/>: the next caller fetches a new one (unless one already has).</summary>
    public void Invalidate(string destination, string token)
    {
        if (_entries.TryGetValue(destination, out var entry))
        {
            lock (entry)
            {
                if (entry.Token == token)
                {
                    entry.Token = null;
                }
            }
        }
    }

    private Task<Fetched> FetchAsync(string destination, Entry entry, ClientCredentials credentials, HttpMessageInvoker client) =>
        Task.Run(async () =>
        {
            var asked = time.GetUtcNow();
            var fetched = await RequestAsync(destination, credentials, client).ConfigureAwait(false);
            lock (entry)
            {
                if (!credentials.Equals(entry.Credentials))
                {
                    // The settings changed meanwhile: this answer is about the old ones.
                    return fetched;
                }

                entry.Fetching = null;
                if (fetched.Token is { } token)
                {
                    var lifetime = fetched.Lifetime > TimeSpan.Zero ? fetched.Lifetime : DefaultLifetime;
                    var ahead = lifetime / 4 < RenewAhead ? lifetime / 4 : RenewAhead;
                    entry.Token = token;
                    entry.RenewAt = asked + lifetime - ahead;
                    // A little before the server's end, for the clocks' and the wire's sake.
                    entry.ExpiresAt = asked + lifetime - ahead / 4;
                    entry.StopProbe();
                    if (entry.Refused is not null)
                    {
                        entry.Refused = null;
                        faults?.Clear(destination);
                        Log.Accepted(logger, destination);
                    }
                }
                else if (fetched.Refused)
                {
                    entry.Token = null;
                    entry.Refused = fetched.Failure!.Error;
                    faults?.Report(destination, entry.Refused!);
                    entry.StartProbe(time, ProbeInterval, () => Probe(destination, entry));
                }
            }

            return fetched;
        });

    private void Probe(string destination, Entry entry)
    {
        lock (entry)
        {
            if (entry.Refused is null || _disposed.IsCancellationRequested)
            {
                entry.StopProbe();
                return;
            }

            if (entry.Fetching is not null || entry.Resolve is null || entry.Client is null)
            {
                return;
            }

            ClientCredentials credentials;
            try
            {
                credentials = entry.Resolve();
            }
            catch (SecretUnavailableException)
            {
                return;
            }

            if (!credentials.Equals(entry.Credentials))
            {
                // Still held until the new settings give a token.
                var refused = entry.Refused;
                entry.Reset(credentials);
                entry.Refused = refused;
            }

            entry.Fetching = FetchAsync(destination, entry, credentials, entry.Client);
        }
    }

    private async Task<Fetched> RequestAsync(string destination, ClientCredentials credentials, HttpMessageInvoker client)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_disposed.Token);
        timeout.CancelAfter(fetchTimeout);
        var request = new ClientCredentialsTokenRequest
        {
            Address = credentials.TokenUrl,
            ClientId = credentials.ClientId,
            ClientSecret = credentials.ClientSecret,
            ClientCredentialStyle = ClientCredentialStyle.AuthorizationHeader,
            Scope = credentials.Scope,
        };
        if (!string.IsNullOrEmpty(credentials.Audience))
        {
            request.Parameters.Add("audience", credentials.Audience);
        }

        try
        {
            using var response = await client.RequestClientCredentialsTokenAsync(request, timeout.Token).ConfigureAwait(false);
            if (!response.IsError && !string.IsNullOrEmpty(response.AccessToken))
            {
                Log.Fetched(logger, destination, response.ExpiresIn);
                return new(response.AccessToken, TimeSpan.FromSeconds(Math.Max(0, response.ExpiresIn)), null, false);
            }

            return Failed(destination, response);
        }
        catch (OperationCanceledException) when (!_disposed.IsCancellationRequested)
        {
            return Retryable(destination, $"Token endpoint: no answer within {fetchTimeout.TotalSeconds:0.###} s (timeout)");
        }
        catch (HttpRequestException ex)
        {
            return Retryable(destination, "Token endpoint: " + HttpTransport.Describe(ex));
        }
    }

    private Fetched Failed(string destination, TokenResponse response)
    {
        if (response.ErrorType == ResponseErrorType.Exception)
        {
            var reason = response.Exception is HttpRequestException http ? HttpTransport.Describe(http)
                : response.Exception is OperationCanceledException ? $"no answer within {fetchTimeout.TotalSeconds:0.###} s (timeout)"
                : "no answer (" + response.Exception?.GetType().Name + ")";
            return Retryable(destination, "Token endpoint: " + reason);
        }

        var code = (int)response.HttpStatusCode;
        // An OAuth error code is a token of [\x20-\x7E] (RFC 6749, 5.2); the description is left out: it is the
        // server's free text, and a misbehaving one could echo what it was sent.
        var error = response.Error is { Length: > 0 and <= 64 } e && e.All(c => c is >= ' ' and <= '~') ? e : null;
        if (code == 0 || HttpFailureClassifier.Classify(code) == Contracts.AttemptOutcome.RetryableFailure)
        {
            return Retryable(destination, code == 0
                ? "Token endpoint: no access_token in its answer"
                : $"Token endpoint answered {code}{(error is null ? "" : " " + error)}");
        }

        if (code is >= 200 and < 300)
        {
            return Retryable(destination, "Token endpoint: no access_token in its answer");
        }

        var problem = $"The token endpoint refused the client ({code}{(error is null ? "" : " " + error)}): a configuration error. "
            + "The destination is held (nothing is attempted, nothing counted) until the token endpoint gives a token; it is asked again "
            + $"every {ProbeInterval.TotalSeconds:0} s, and at once when Auth's settings change.";
        Log.Refused(logger, destination, code, error ?? "");
        return new(null, TimeSpan.Zero, AttemptResult.Retryable(problem), true);
    }

    private Fetched Retryable(string destination, string error)
    {
        Log.FetchFailed(logger, destination, error);
        return new(null, TimeSpan.Zero, AttemptResult.Retryable(error), false);
    }

    public void Dispose()
    {
        // The host may dispose an adapter twice (registered as itself and as an IProtocolAdapter).
        if (_disposed.IsCancellationRequested)
        {
            return;
        }

        _disposed.Cancel();
        foreach (var entry in _entries.Values)
        {
            lock (entry)
            {
                entry.StopProbe();
            }
        }

    }

    private sealed record Fetched(string? Token, TimeSpan Lifetime, AttemptResult? Failure, bool Refused);

    /// <summary>One destination's token; every field under the entry's lock.</summary>
    private sealed class Entry
    {
        public ClientCredentials? Credentials;
        public Func<ClientCredentials>? Resolve;
        public HttpMessageInvoker? Client;
        public string? Token;
        public DateTimeOffset RenewAt;
        public DateTimeOffset ExpiresAt;
        public Task<Fetched>? Fetching;
        public string? Refused;
        private ITimer? _probe;

        public void Reset(ClientCredentials credentials)
        {
            Credentials = credentials;
            Token = null;
            Fetching = null;
            Refused = null;
        }

        public void StartProbe(TimeProvider time, TimeSpan interval, Action probe) =>
            _probe ??= time.CreateTimer(_ => probe(), null, interval, interval);

        public void StopProbe()
        {
            _probe?.Dispose();
            _probe = null;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2011, Level = LogLevel.Debug, Message = "Token for {Destination} fetched (expires in {ExpiresIn} s)")]
        public static partial void Fetched(ILogger logger, string destination, int expiresIn);

        [LoggerMessage(EventId = 2012, Level = LogLevel.Warning, Message = "Token for {Destination} not fetched: {Error}")]
        public static partial void FetchFailed(ILogger logger, string destination, string error);

        [LoggerMessage(EventId = 2013, Level = LogLevel.Error, Message = "The token endpoint of {Destination} refused its client ({StatusCode} {Error}); the destination is held until it gives a token")]
        public static partial void Refused(ILogger logger, string destination, int statusCode, string error);

        [LoggerMessage(EventId = 2014, Level = LogLevel.Information, Message = "The token endpoint of {Destination} gives tokens again; the destination is no longer held")]
        public static partial void Accepted(ILogger logger, string destination);
    }
}
