using Relay.Adapters.Ldap;
using Relay.Adapters.Tests.Destinations;

namespace Relay.Adapters.Tests.Ldap;

/// <summary>An LDAP destination's own settings, checked by its adapter's validator at start-up (docs/ADAPTERS.md).</summary>
public sealed class LdapDestinationValidatorTests
{
    private static LdapDestinationOptions Ldap() => new()
    {
        Protocol = "Ldap", Address = "ldap://directory.example.com:389/ou=people,dc=example,dc=com", BindDn = "cn=relay,dc=example,dc=com", Password = "pw-Secret1",
    };

    [Fact]
    public void An_Ldap_destination_with_its_documented_settings_is_valid_and_so_are_anonymous_ldaps_and_StartTLS_ones()
    {
        var startTls = Ldap();
        startTls.UseTls = true;

        Assert.Empty(DestinationSettings.Validate(Ldap()));
        Assert.Empty(DestinationSettings.Validate(startTls));
        Assert.Empty(DestinationSettings.Validate(new LdapDestinationOptions { Protocol = "Ldap", Address = "ldap://directory.example.com/dc=example,dc=com" }));
        Assert.Empty(DestinationSettings.Validate(new LdapDestinationOptions { Protocol = "Ldap", Address = "ldaps://directory.example.com/dc=example,dc=com" }));
    }

    [Fact]
    public void BindDn_and_Password_go_together()
    {
        var destination = Ldap();
        destination.Password = null;

        Assert.Equal("Relay:Destinations:target:BindDn and Relay:Destinations:target:Password go together: give both for a simple bind, or neither to bind anonymously.", DestinationSettings.OnlyError(destination));
    }

    [Theory]
    [InlineData("ldap://directory.example.com:389")]
    [InlineData("ldap://directory.example.com/")]
    [InlineData("ldaps://directory.example.com")]
    public void An_address_without_a_base_DN_is_refused(string address)
    {
        var destination = Ldap();
        destination.Address = address;

        Assert.StartsWith("Relay:Destinations:target:Address names no base DN", DestinationSettings.OnlyError(destination), StringComparison.Ordinal);
    }

    [Fact]
    public void UseTls_with_an_ldaps_address_is_refused()
    {
        var destination = Ldap();
        destination.Address = "ldaps://directory.example.com/dc=example,dc=com";
        destination.UseTls = true;

        Assert.StartsWith("Relay:Destinations:target:UseTls asks for StartTLS but", DestinationSettings.OnlyError(destination), StringComparison.Ordinal);
    }

    [Fact]
    public void TrustedCaPath_must_be_a_file_and_needs_TLS()
    {
        var missing = Ldap();
        missing.UseTls = true;
        missing.TrustedCaPath = "/nonexistent/relay-ca.pem";
        var plain = Ldap();
        plain.TrustedCaPath = "/nonexistent/relay-ca.pem";

        Assert.StartsWith("Relay:Destinations:target:TrustedCaPath '/nonexistent/relay-ca.pem' is not a file", DestinationSettings.OnlyError(missing), StringComparison.Ordinal);
        Assert.StartsWith("Relay:Destinations:target:TrustedCaPath is set but the destination speaks plain LDAP", DestinationSettings.OnlyError(plain), StringComparison.Ordinal);
    }

    [Fact]
    public void Credentials_in_the_address_are_refused_named_as_BindDn_and_not_shown()
    {
        var destination = Ldap();
        destination.Address = "ldap://admin:pw-Secret1@directory.example.com/dc=example,dc=com";

        var error = DestinationSettings.OnlyError(destination);

        Assert.Equal("Relay:Destinations:target:Address carries a user name or password; give them as Relay:Destinations:target:BindDn and Relay:Destinations:target:Password, which are never shown.", error);
    }

    [Fact]
    public void A_BindDn_without_Password_in_the_configuration_names_the_full_keys()
    {
        var problems = DestinationSettings.Problems(
            ("Relay:Destinations:directory:Protocol", "Ldap"), ("Relay:Destinations:directory:Address", "ldap://127.0.0.1:389/dc=example,dc=com"),
            ("Relay:Destinations:directory:BindDn", "cn=admin,dc=example,dc=com"));

        Assert.StartsWith("Relay:Destinations:directory:BindDn and Relay:Destinations:directory:Password go together", Assert.Single(problems), StringComparison.Ordinal);
    }

    [Fact]
    public void A_Password_reference_to_a_missing_file_or_an_unset_variable_names_the_key_and_never_a_secret() =>
        DestinationSettings.PasswordReferencesAreChecked(Ldap(), "RELAY_TEST_UNSET_LDAP_PASSWORD_3D");
}
