namespace Relay.Adapters.Ldap;

internal enum LdapSecurity
{
    /// <summary>Plain LDAP.</summary>
    None,
    /// <summary><c>ldaps://</c>: TLS from the first byte (port 636 by default).</summary>
    Ldaps,
    /// <summary><c>ldap://</c> with <c>UseTls</c>: the StartTLS extended operation before the bind.</summary>
    StartTls,
}

/// <summary>
/// An LDAP destination's address: <c>ldap://host[:port]/base-dn</c> or <c>ldaps://host[:port]/base-dn</c>, the base DN
/// percent-encoded as in an LDAP URL (RFC 4516): every entry the destination's messages name must lie within it.
/// </summary>
internal sealed record LdapAddress(string Host, int Port, LdapSecurity Security, LdapDn BaseDn, string BaseDnText)
{
    /// <summary>The URI libldap connects to.</summary>
    public string Uri => $"{(Security == LdapSecurity.Ldaps ? "ldaps" : "ldap")}://{(Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]" : Host)}:{Port}";

    /// <summary>False with the rest of a sentence that starts "The destination's Address ..." when it is no such address.</summary>
    public static bool TryParse(string? text, bool useTls, out LdapAddress address, out string problem)
    {
        address = null!;
        if (!System.Uri.TryCreate(text, UriKind.Absolute, out var uri)
            || !(uri.Scheme.Equals("ldap", StringComparison.OrdinalIgnoreCase) || uri.Scheme.Equals("ldaps", StringComparison.OrdinalIgnoreCase)))
        {
            problem = "is not an ldap:// or ldaps:// address";
            return false;
        }

        var ldaps = uri.Scheme.Equals("ldaps", StringComparison.OrdinalIgnoreCase);
        if (ldaps && useTls)
        {
            problem = "is ldaps:// (TLS from the start) and UseTls asks for StartTLS: use one of them";
            return false;
        }

        if (!string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
        {
            problem = "has a query or fragment; it is ldap://host:port/base-dn";
            return false;
        }

        var baseDnText = System.Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (baseDnText.Length == 0)
        {
            problem = "names no base DN (ldap://host:port/dc=example,dc=com): the entries it may change";
            return false;
        }

        if (!LdapDn.TryParse(baseDnText, out var baseDn, out var dnProblem))
        {
            problem = "has a base DN that is not a valid DN: " + dnProblem;
            return false;
        }

        var host = uri.HostNameType == UriHostNameType.IPv6 ? uri.DnsSafeHost : uri.IdnHost;
        var port = uri.IsDefaultPort || uri.Port <= 0 ? (ldaps ? 636 : 389) : uri.Port;
        address = new LdapAddress(host, port, ldaps ? LdapSecurity.Ldaps : useTls ? LdapSecurity.StartTls : LdapSecurity.None, baseDn, baseDnText);
        problem = "";
        return true;
    }
}
