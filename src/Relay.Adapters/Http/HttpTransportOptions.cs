namespace Relay.Adapters.Http;

/// <summary>The settings of an adapter that speaks HTTP (<see cref="HttpAdapterOptions"/>, <c>SoapAdapterOptions</c>).</summary>
public abstract class HttpTransportOptions
{
    /// <summary>Bound of opening a connection (part of each attempt's timeout).</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);
    /// <summary>How long a pooled connection is reused, so DNS changes are seen.</summary>
    public TimeSpan PooledConnectionLifetime { get; set; } = TimeSpan.FromMinutes(2);
    /// <summary>
    /// Part of a response body kept for the answer and the audit (the host sets <c>Relay:Limits:MaxResponseBodyBytes</c>).
    /// The SOAP adapter also reads a fault in it: a fault whose code lies beyond it is classified by its HTTP status alone.
    /// </summary>
    public int MaxResponseBodyBytes { get; set; } = 64 * 1024;
    /// <summary>Longest Retry-After honoured.</summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromHours(24);
    /// <summary>
    /// Bound of one request to an OAuth token endpoint (<c>Auth:Kind OAuth2ClientCredentials</c>). Shared by every
    /// delivery waiting for that token: each waits at most its own attempt's timeout.
    /// </summary>
    public TimeSpan TokenTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
