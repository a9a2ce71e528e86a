using Relay.Core.Options;

namespace Relay.Adapters.Ldap;

/// <summary>
/// The rules of an LDAP destination's own settings (the shared ones are <see cref="RelayOptionsValidator"/>'s).
/// The password is a secret: a rule may say one is missing, never what it is.
/// </summary>
internal static class LdapDestinationValidator
{
    /// <summary>The protocol <c>Ldap</c>, as <see cref="LdapAdapterExtensions.AddRelayLdapAdapter"/> registers it.</summary>
    public static readonly DestinationProtocol<LdapDestinationOptions> Protocol = new("Ldap", ["ldap"], Validate);

    public static void Validate(string key, LdapDestinationOptions destination, ICollection<string> errors)
    {
        // A path (an LDAP URL's base DN) is ignored: the payload names full DNs.
        OptionRules.CheckNoUserInfo(key, destination, errors, userSetting: "BindDn");
        if (string.IsNullOrEmpty(destination.BindDn) != string.IsNullOrEmpty(destination.Password))
        {
            errors.Add($"{key}:BindDn and {key}:Password go together: give both for a simple bind, or neither to bind anonymously.");
        }

        if (destination.UseTls)
        {
            errors.Add($"{key}:UseTls is not supported for Ldap destinations yet; leave it out (the LDAP adapter speaks plain ldap://).");
        }
    }
}
