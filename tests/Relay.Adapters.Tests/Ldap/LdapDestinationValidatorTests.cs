using Relay.Adapters.Ldap;
using Relay.Adapters.Tests.Destinations;

namespace Relay.Adapters.Tests.Ldap;

/// <summary>An LDAP destination's own settings, checked by its adapter's validator at start-up (docs/ADAPTERS.md).</summary>
public sealed class LdapDestinationValidatorTests
{
    private static LdapDestinationOptions Ldap() => new()
    {
        Protocol = "Ldap", Address = "ldap://directory.example.com:389", BindDn = "cn=relay,dc=example,dc=com", Password = "pw-Secret1",
    };

    [Fact]
    public void An_Ldap_destination_with_its_documented_settings_is_valid_and_so_is_an_anonymous_one()
    {
        Assert.Empty(DestinationSettings.Validate(Ldap()));
        Assert.Empty(DestinationSettings.Validate(new LdapDestinationOptions { Protocol = "Ldap", Address = "ldap://directory.example.com" }));
    }

    [Fact]
    public void BindDn_and_Password_go_together()
    {
        var destination = Ldap();
        destination.Password = null;

        Assert.Equal("Relay:Destinations:target:BindDn and Relay:Destinations:target:Password go together: give both for a simple bind, or neither to bind anonymously.", DestinationSettings.OnlyError(destination));
    }

    [Fact]
    public void UseTls_is_refused_rather_than_ignored()
    {
        var destination = Ldap();
        destination.UseTls = true;

        Assert.StartsWith("Relay:Destinations:target:UseTls is not supported for Ldap destinations yet", DestinationSettings.OnlyError(destination), StringComparison.Ordinal);
    }

    [Fact]
    public void Credentials_in_the_address_are_refused_named_as_BindDn_and_not_shown()
    {
        var destination = Ldap();
        destination.Address = "ldap://admin:pw-Secret1@directory.example.com";

        var error = DestinationSettings.OnlyError(destination);

        Assert.Equal("Relay:Destinations:target:Address carries a user name or password; give them as Relay:Destinations:target:BindDn and Relay:Destinations:target:Password, which are never shown.", error);
    }

    [Fact]
    public void A_BindDn_without_Password_in_the_configuration_names_the_full_keys()
    {
        var problems = DestinationSettings.Problems(
            ("Relay:Destinations:directory:Protocol", "Ldap"), ("Relay:Destinations:directory:Address", "ldap://127.0.0.1:389"),
            ("Relay:Destinations:directory:BindDn", "cn=admin,dc=example,dc=com"));

        Assert.StartsWith("Relay:Destinations:directory:BindDn and Relay:Destinations:directory:Password go together", Assert.Single(problems), StringComparison.Ordinal);
    }
}
