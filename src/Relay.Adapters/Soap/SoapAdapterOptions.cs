namespace Relay.Adapters.Soap;

public sealed class SoapAdapterOptions
{
    /// <summary>Bound of opening a connection (part of each attempt's timeout).</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);
    /// <summary>How long a pooled connection is reused, so DNS changes are seen.</summary>
    public TimeSpan PooledConnectionLifetime { get; set; } = TimeSpan.FromMinutes(2);
    /// <summary>
    /// Part of a response body kept for the answer and the audit, and read to find a SOAP fault: a fault whose
    /// code lies beyond it is classified by its HTTP status alone.
    /// </summary>
    public int MaxResponseBodyBytes { get; set; } = 64 * 1024;
    /// <summary>Longest Retry-After honoured.</summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromHours(24);
}
