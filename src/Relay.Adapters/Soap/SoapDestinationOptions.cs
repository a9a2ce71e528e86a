using Relay.Adapters.Http;

namespace Relay.Adapters.Soap;

/// <summary>
/// A SOAP destination (<c>Protocol: Soap</c>): the shared settings (<c>Username</c> and <c>Password</c> give a
/// WS-Security UsernameToken) and the envelope's.
/// </summary>
public sealed class SoapDestinationOptions : HttpTransportDestinationOptions
{
    /// <summary>The SOAPAction (1.1 header, or the 1.2 content type's action parameter).</summary>
    public string? SoapAction { get; set; }
    /// <summary><c>1.1</c> (default) or <c>1.2</c>.</summary>
    public string SoapVersion { get; set; } = "1.1";
    /// <summary>Whether a Server/Receiver SOAP fault is retried (a Client/Sender fault never is).</summary>
    public bool RetryOnServerFault { get; set; } = true;
}
