using Relay.Core.Options;

namespace Relay.Adapters.Http;

/// <summary>How a destination that speaks HTTP (Http, Soap) proves who is calling (<c>Auth:Kind</c>, docs/AUTH.md).</summary>
public enum HttpAuthKind
{
    /// <summary>No credentials of the adapter's own (configured <c>Headers</c> may still carry a key).</summary>
    None,
    /// <summary><c>Authorization: Basic</c> of <c>Username</c> and <c>Password</c> (RFC 7617).</summary>
    Basic,
    /// <summary><c>Authorization: Bearer</c> of a static <c>Token</c> (RFC 6750).</summary>
    Bearer,
    /// <summary>
    /// A token of the OAuth 2.0 client credentials grant (RFC 6749, 4.4) from <c>TokenUrl</c>, cached per destination on
    /// each silo, renewed before it expires, and renewed at once (the try repeated once) when the destination answers 401.
    /// </summary>
    OAuth2ClientCredentials,
}

/// <summary>
/// <c>Relay:Destinations:{name}:Auth</c>: the destination's credentials, typed. Every secret here (<c>Password</c>,
/// <c>Token</c>, <c>ClientSecret</c>) may be a reference (<c>${file:/run/secrets/x}</c>, <c>${env:NAME}</c>,
/// <see cref="SecretReference"/>), and none is ever logged, shown or stored.
/// </summary>
public sealed class HttpAuthOptions
{
    public HttpAuthKind Kind { get; set; } = HttpAuthKind.None;

    /// <summary><c>Basic</c>: the user (no colon).</summary>
    public string? Username { get; set; }
    /// <summary><c>Basic</c>: a secret.</summary>
    [Secret]
    public string? Password { get; set; }

    /// <summary><c>Bearer</c>: the token, a secret.</summary>
    [Secret]
    public string? Token { get; set; }

    /// <summary><c>OAuth2ClientCredentials</c>: the authorization server's token endpoint.</summary>
    public string? TokenUrl { get; set; }
    /// <summary><c>OAuth2ClientCredentials</c>: the client id.</summary>
    public string? ClientId { get; set; }
    /// <summary><c>OAuth2ClientCredentials</c>: the client secret, a secret; sent as HTTP Basic to the token endpoint.</summary>
    [Secret]
    public string? ClientSecret { get; set; }
    /// <summary><c>OAuth2ClientCredentials</c>: the scopes asked for, space-separated; optional.</summary>
    public string? Scope { get; set; }
    /// <summary><c>OAuth2ClientCredentials</c>: the <c>audience</c> parameter some servers want (Auth0, Okta); optional.</summary>
    public string? Audience { get; set; }

    /// <summary>Whether any setting besides <see cref="Kind"/> is given (for the validator: settings without a kind).</summary>
    internal bool AnySetting =>
        Username is not null || Password is not null || Token is not null || TokenUrl is not null || ClientId is not null
        || ClientSecret is not null || Scope is not null || Audience is not null;
}

/// <summary>
/// <c>Relay:Destinations:{name}:ClientCertificate</c>: the certificate the adapter presents in the TLS handshake (mutual
/// TLS), as PEM (<c>Path</c> the certificate, <c>KeyPath</c> its private key, or one file holding both) or as PKCS#12
/// (<c>Path</c> a <c>.pfx</c>/<c>.p12</c>). <c>Password</c> opens an encrypted key or a PKCS#12 file; it is a secret and
/// may be a reference.
/// </summary>
public sealed class ClientCertificateOptions
{
    public string? Path { get; set; }
    public string? KeyPath { get; set; }
    [Secret]
    public string? Password { get; set; }
}
