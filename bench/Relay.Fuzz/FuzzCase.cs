namespace Relay.Fuzz;

/// <summary>The front door a case goes through.</summary>
internal enum Door
{
    Json,
    Soap,
    Portal,
}

/// <summary>Which credentials a case carries.</summary>
internal enum Credentials
{
    /// <summary>The sender key (nothing when the silo runs without keys).</summary>
    Sender,
    /// <summary>No key at all.</summary>
    None,
    /// <summary>A key that is not configured.</summary>
    Wrong,
    /// <summary>The portal's sign-in cookie and the form's antiforgery token.</summary>
    Portal,
    /// <summary>The portal's sign-in cookie without the antiforgery token.</summary>
    PortalWithoutToken,
    /// <summary>A fresh client with the login page's antiforgery token, not signed in.</summary>
    LoginPage,
}

/// <summary>
/// One generated request. <see cref="TrackedId"/> is the message id the request carries intact (its generator did not
/// touch it): refused, it must not be stored; accepted, the answer must name it.
/// </summary>
internal sealed record FuzzCase
{
    public required Door Door { get; init; }

    /// <summary>What the generator did, e.g. <c>json.valid</c>, <c>json.wrong-type.headers</c>, <c>soap.xxe</c>.</summary>
    public required string Kind { get; init; }

    public HttpMethod Method { get; init; } = HttpMethod.Post;

    /// <summary>Relative to the silo's base URL, query included.</summary>
    public required string Path { get; init; }

    public byte[]? Body { get; init; }

    /// <summary>A portal form's fields (URL-encoded by the runner, which adds the antiforgery token when asked).</summary>
    public IReadOnlyList<KeyValuePair<string, string>>? Form { get; init; }

    /// <summary>The Content-Type header as sent (raw), or null for none.</summary>
    public string? ContentType { get; init; }

    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];

    public Credentials Credentials { get; init; } = Credentials.Sender;

    public string? TrackedId { get; init; }

    /// <summary>Valid by the contract: anything but a 2xx answer is a finding.</summary>
    public bool MustBeAccepted { get; init; }

    /// <summary>Send the body a few bytes at a time.</summary>
    public bool SlowBody { get; init; }

    /// <summary>A string that must never appear in the answer (a file an XML entity names).</summary>
    public string? MustNotEcho { get; init; }
}
