using Relay.Core.Options;

namespace Relay.Core.Messages;

/// <summary>
/// Which of a message's headers a destination takes, whatever its protocol: the destination's own settings win.
/// A header the destination configures (<c>Headers</c>) is its operator's, and so are the credential headers when
/// the destination has credentials: a sender cannot replace them (<c>X-Tenant: other</c> over the configured
/// <c>X-Tenant: acme</c>) nor add its own identity beside them (<c>Authorization</c> next to a configured key).
/// <para>
/// Checked twice: at acceptance (<see cref="MessageValidator"/>: the message is refused whole, 400 or a SOAP fault,
/// nothing stored), and by the adapters at each attempt, which leave such a header out and apply the configured ones
/// last, for a message stored before the rule or before the destination's configuration changed.
/// A protocol may refuse more (<c>IProtocolAdapter.RefusesHeader</c>: SMTP's <c>Reply-To</c>, for instance).
/// </para>
/// </summary>
public static class DestinationHeaders
{
    /// <summary>
    /// Headers that say who is calling or from where: the standard credentials (<c>Authorization</c>, <c>Cookie</c>),
    /// the usual API key headers, and the forwarding headers that proxies and gateways trust for a caller's address.
    /// A sender may not set them on a destination that has credentials of its own (<see cref="HasCredentials"/>).
    /// <c>Proxy-Authorization</c> is refused on every destination (<see cref="MessageValidator"/>).
    /// </summary>
    public static readonly IReadOnlySet<string> CredentialHeaders = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "Authorization", "Cookie", "X-Api-Key", "Api-Key",
        "Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-IP",
    };

    /// <summary>
    /// Whether the destination calls with an identity of its own: a user name, password or bind DN, a user in its
    /// address, or any configured header (Relay treats every configured header value as a secret, such as a key).
    /// </summary>
    public static bool HasCredentials(DestinationOptions destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return destination.Headers is { Count: > 0 }
            || !string.IsNullOrEmpty(destination.Username)
            || !string.IsNullOrEmpty(destination.Password)
            || destination.HasProtocolCredentials
            || (Uri.TryCreate(destination.Address, UriKind.Absolute, out var address) && address.UserInfo.Length > 0);
    }

    /// <summary>Whether the destination configures a header of this name (compared without case).</summary>
    public static bool Configures(DestinationOptions destination, string name)
    {
        ArgumentNullException.ThrowIfNull(destination);
        // The binder may have replaced the case-insensitive dictionary of the defaults with one of its own.
        return destination.Headers is not null && destination.Headers.Keys.Any(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Why a message may not carry the header <paramref name="name"/> to this destination, or null when it may.</summary>
    /// <returns>The end of a sentence that starts with "Header 'X' cannot be sent to the destination 'd': ".</returns>
    public static string? Refusal(DestinationOptions destination, string name)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(name);
        if (ProtocolFields.IsReserved(name))
        {
            // Refused at acceptance already; in a stored message only Relay's own fields carry such a name.
            return "Relay sets it itself";
        }

        if (Configures(destination, name))
        {
            return "the destination sets it itself, and its configured headers win";
        }

        if (CredentialHeaders.Contains(name) && HasCredentials(destination))
        {
            return "the destination calls with credentials of its own, and a message cannot add another identity";
        }

        return null;
    }
}
