using Relay.Core.Options;

namespace Relay.Adapters.Ldap;

/// <summary>
/// The rules of an LDAP destination's own settings (the shared ones are <see cref="RelayOptionsValidator"/>'s).
/// The password is a secret: a rule may say one is missing, or that the file or variable it refers to cannot be read,
/// never what it is.
/// </summary>
internal static class LdapDestinationValidator
{
    /// <summary>The protocol <c>Ldap</c>, as <see cref="LdapAdapterExtensions.AddRelayLdapAdapter"/> registers it.</summary>
    public static readonly DestinationProtocol<LdapDestinationOptions> Protocol = new("Ldap", ["ldap", "ldaps"], Validate);

    public static void Validate(string key, LdapDestinationOptions destination, ICollection<string> errors)
    {
        OptionRules.CheckNoUserInfo(key, destination, errors, userSetting: "BindDn");
        var ldaps = false;
        if (OptionRules.TryAddress(destination, out var address))
        {
            ldaps = string.Equals(address.Scheme, "ldaps", StringComparison.OrdinalIgnoreCase);
            // The path is the base DN (an LDAP URL's): every entry a message names must lie within it. The adapter
            // parses it (LdapAddress) and refuses a DN it cannot read at the attempt.
            if (Uri.UnescapeDataString(address.AbsolutePath).Trim('/').Trim().Length == 0)
            {
                errors.Add($"{key}:Address names no base DN; add it as the address's path (ldap://host:389/ou=people,dc=example,dc=com): the entries this destination's messages may change.");
            }

            if (destination.UseTls && ldaps)
            {
                errors.Add($"{key}:UseTls asks for StartTLS but {key}:Address is ldaps:// (TLS from the start); use one of them.");
            }
        }

        if (string.IsNullOrEmpty(destination.BindDn) != string.IsNullOrEmpty(destination.Password))
        {
            errors.Add($"{key}:BindDn and {key}:Password go together: give both for a simple bind, or neither to bind anonymously.");
        }

        // Found at start-up, not at the first attempt: a reference (${file:...}, ${env:...}) must resolve; named by its key only.
        if (SecretReference.Problem($"{key}:Password", destination.Password) is { } secretProblem)
        {
            errors.Add(secretProblem);
        }

        if (!string.IsNullOrEmpty(destination.TrustedCaPath))
        {
            if (!destination.UseTls && !ldaps)
            {
                errors.Add($"{key}:TrustedCaPath is set but the destination speaks plain LDAP; use an ldaps:// address or UseTls, or leave TrustedCaPath out.");
            }
            else if (!File.Exists(destination.TrustedCaPath))
            {
                errors.Add($"{key}:TrustedCaPath '{OptionRules.Shorten(destination.TrustedCaPath)}' is not a file (a PEM file of the CA certificate that signed the server's).");
            }
        }
    }
}
