using Relay.Contracts;

namespace Relay.Core.Delivery;

/// <summary>What one call of a protocol adapter came to.</summary>
public sealed record AttemptResult
{
    public required AttemptOutcome Outcome { get; init; }
    /// <summary>The protocol's reply code (HTTP status, FTP/SMTP reply, LDAP result), when there was a reply.</summary>
    public int? StatusCode { get; init; }
    /// <summary>A short description of the failure a person can read, e.g. <c>503 Service Unavailable</c>.</summary>
    public string? Error { get; init; }
    /// <summary>Response headers of note.</summary>
    public IReadOnlyDictionary<string, string>? Headers { get; init; }
    /// <summary>The response body, truncated to the configured limit.</summary>
    public string? Body { get; init; }
    /// <summary>The destination asked to wait this long before trying again.</summary>
    public TimeSpan? RetryAfter { get; init; }
    /// <summary>
    /// A try the adapter made and repeated at once within this call, not counted as an attempt: the destination answered
    /// 401 to an OAuth token that was then renewed (docs/AUTH.md). Audited before this result's own try.
    /// </summary>
    public RepeatedTry? Repeated { get; init; }
    /// <summary>
    /// The destination took the message and acknowledges it later, on a request of its own (an ebXML destination with
    /// <c>SyncReply: false</c>): the delivery waits in <c>AwaitingAcknowledgment</c> until the acknowledgment (or an error
    /// list) comes, or the contract's delay passes (then the next attempt goes, with the same ebXML MessageId).
    /// <see cref="Outcome"/> is then <c>Success</c>: the attempt itself succeeded (the destination answered, which the
    /// circuit breaker and immediate retries see as such); the delivery decides on this flag before calling it Delivered.
    /// </summary>
    public bool AwaitsAcknowledgment { get; init; }

    public static AttemptResult Retryable(string error, int? statusCode = null) =>
        new() { Outcome = AttemptOutcome.RetryableFailure, Error = error, StatusCode = statusCode };

    public static AttemptResult Final(string error, int? statusCode = null) =>
        new() { Outcome = AttemptOutcome.NonRetryableFailure, Error = error, StatusCode = statusCode };
}

/// <summary>A try repeated at once inside one adapter call (<see cref="AttemptResult.Repeated"/>), and how long it took.</summary>
public sealed record RepeatedTry(AttemptResult Result, TimeSpan Duration);
