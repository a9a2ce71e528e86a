using Relay.Core.Options;

namespace Relay.Adapters.Http;

/// <summary>
/// What the destinations of the adapters that speak HTTP (Http, Soap) share besides every destination's settings: the
/// credentials (<see cref="Auth"/>), the client certificate and the trusted CA (docs/AUTH.md).
/// </summary>
public abstract class HttpTransportDestinationOptions : DestinationOptions
{
    /// <summary>The destination's credentials (Basic, Bearer, OAuth 2.0 client credentials); none by default.</summary>
    public HttpAuthOptions Auth { get; set; } = new();

    /// <summary>The certificate presented to the destination (mutual TLS); none by default. Any <see cref="Auth"/> goes with it.</summary>
    public ClientCertificateOptions? ClientCertificate { get; set; }

    /// <summary>
    /// A PEM file of the CA certificate(s) the destination's server certificate must chain to, for a server with a
    /// private CA; the system's trusted roots are not used for it then. Default: the system's roots.
    /// </summary>
    public string? TrustedCaPath { get; set; }

    protected override bool HasProtocolCredentials => Auth.Kind != HttpAuthKind.None || ClientCertificate is not null;
}
