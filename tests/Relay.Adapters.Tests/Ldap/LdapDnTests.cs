using Relay.Adapters.Ldap;

namespace Relay.Adapters.Tests.Ldap;

/// <summary>Whether an entry's DN lies within a base DN: RDN by RDN, never by the text's suffix.</summary>
public sealed class LdapDnTests
{
    private static bool Within(string dn, string baseDn)
    {
        Assert.True(LdapDn.TryParse(baseDn, out var parsedBase, out var problem), problem);
        Assert.True(LdapDn.TryParse(dn, out var parsed, out problem), problem);
        return parsed.IsWithin(parsedBase);
    }

    [Theory]
    [InlineData("uid=jdoe,ou=people,dc=example,dc=com", "dc=example,dc=com")]
    [InlineData("dc=example,dc=com", "dc=example,dc=com")]
    [InlineData("UID=jdoe,OU=People,DC=Example,DC=COM", "dc=example,dc=com")]
    [InlineData("uid=jdoe, ou=people, dc=example, dc=com", "ou=people,dc=example,dc=com")]
    [InlineData("cn=a\\,b,ou=people,dc=example,dc=com", "ou=people,dc=example,dc=com")]
    [InlineData("cn=x,ou=people,dc=\\65xample,dc=com", "ou=people,dc=example,dc=com")]
    [InlineData("cn=x,ou=caf\\C3\\A9,dc=example", "ou=café,dc=example")]
    [InlineData("cn=x,ou=a+cn=b,dc=example", "cn=b+ou=a,dc=example")]
    [InlineData("cn=x,ou=people ,dc=example", "ou=people,dc=example")]
    public void An_entry_at_or_below_the_base_is_within(string dn, string baseDn) => Assert.True(Within(dn, baseDn));

    [Theory]
    [InlineData("cn=x,dc=evilexample,dc=com", "dc=example,dc=com")]
    [InlineData("cn=x,dc=com", "dc=example,dc=com")]
    [InlineData("dc=com", "dc=example,dc=com")]
    [InlineData("cn=x,ou=people\\,dc=example,dc=com", "ou=people,dc=example,dc=com")]
    [InlineData("cn=x\\,ou=people,dc=example,dc=org", "ou=people,dc=example,dc=com")]
    [InlineData("cn=x,ou=admins,dc=example,dc=com", "ou=people,dc=example,dc=com")]
    [InlineData("cn=x,ou=a,dc=example", "cn=b+ou=a,dc=example")]
    [InlineData("cn=x,ou=a+cn=b,dc=example", "ou=a,dc=example")]
    [InlineData("cn=x,2.5.4.11=people,dc=example", "ou=people,dc=example")]
    [InlineData("cn=x,ou=people\\20,dc=example", "ou=people,dc=example")]
    [InlineData("cn=dc\\=example\\,dc\\=com", "dc=example,dc=com")]
    public void An_entry_elsewhere_is_not_within(string dn, string baseDn) => Assert.False(Within(dn, baseDn));

    [Theory]
    [InlineData("")]
    [InlineData("dc=example;dc=com")]
    [InlineData("cn=\"x\",dc=com")]
    [InlineData("cn=#04024869,dc=com")]
    [InlineData("OID.2.5.4.3=x,dc=com")]
    [InlineData("cn=x,,dc=com")]
    [InlineData("cn=,dc=com")]
    [InlineData("cn=x\\")]
    [InlineData("cn=x\\zz,dc=com")]
    [InlineData("cn=\\C3,dc=com")]
    [InlineData("cn=a<b,dc=com")]
    [InlineData("=x,dc=com")]
    [InlineData("c n=x")]
    [InlineData("cn=x,dc=com,")]
    public void A_DN_the_server_could_read_otherwise_is_refused(string dn) => Assert.False(LdapDn.TryParse(dn, out _, out _));
}
