using Relay.Core.Options;

namespace Relay.Adapters.Ldap;

/// <summary>
/// An LDAP destination (<c>Protocol: Ldap</c>): the shared settings and the simple bind's DN (with the shared
/// <c>Password</c>; neither: an anonymous bind).
/// </summary>
public sealed class LdapDestinationOptions : DestinationOptions
{
    public string? BindDn { get; set; }
    /// <summary>StartTLS before the bind (with an <c>ldap://</c> address; <c>ldaps://</c> is TLS from the start).</summary>
    public bool UseTls { get; set; }
    /// <summary>
    /// A PEM file of the CA certificate(s) that signed the server's certificate, when it is a private one: trusted for
    /// this destination only (LDAP over <c>ldaps://</c> or with <c>UseTls</c>). Without it, the system's trusted CAs.
    /// </summary>
    public string? TrustedCaPath { get; set; }

    protected override bool HasProtocolCredentials => !string.IsNullOrEmpty(BindDn);
}
