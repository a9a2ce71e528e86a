namespace Relay.Core.Options;

/// <summary>Small rules and wordings that the central validator and the protocols' validators share.</summary>
public static class OptionRules
{
    /// <summary>A value as an error message quotes it: at most 64 characters.</summary>
    public static string Shorten(string? value) =>
        value is null ? "" : value.Length <= 64 ? value : value[..64] + "…";

    /// <summary>An HTTP token (RFC 9110, 5.6.2): a method or a header name.</summary>
    public static bool IsToken(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return false;
        }

        foreach (var c in value)
        {
            var ok = c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9'
                || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal);
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The destination's address, when it is an absolute URI (the central validator has said so when not).</summary>
    public static bool TryAddress(DestinationOptions destination, out Uri address)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return Uri.TryCreate(destination.Address, UriKind.Absolute, out address!);
    }

    /// <summary>
    /// Refuses a user name or password in the address, for a protocol that takes them as settings (never shown);
    /// <paramref name="userSetting"/> is that protocol's name for the user (<c>Username</c>, <c>BindDn</c>).
    /// </summary>
    public static void CheckNoUserInfo(string key, DestinationOptions destination, ICollection<string> errors, string userSetting = "Username")
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (TryAddress(destination, out var address) && !string.IsNullOrEmpty(address.UserInfo))
        {
            errors.Add($"{key}:Address carries a user name or password; give them as {key}:{userSetting} and {key}:Password, which are never shown.");
        }
    }
}
