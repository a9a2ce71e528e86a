using Relay.Core.Options;

namespace Relay.Adapters.Ldap;

/// <summary>
/// An LDAP destination (<c>Protocol: Ldap</c>): the shared settings and the simple bind's DN (with the shared
/// <c>Password</c>; neither: an anonymous bind).
/// </summary>
public sealed class LdapDestinationOptions : DestinationOptions
{
    public string? BindDn { get; set; }
    /// <summary>Not supported yet: refused at start-up rather than ignored.</summary>
    public bool UseTls { get; set; }

    protected override bool HasProtocolCredentials => !string.IsNullOrEmpty(BindDn);
}
