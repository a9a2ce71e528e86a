using Relay.Core.Options;

namespace Relay.Adapters.Ebms;

/// <summary>The rules of an ebXML destination's own settings (the shared ones are <see cref="RelayOptionsValidator"/>'s).</summary>
internal static class EbmsDestinationValidator
{
    /// <summary>The protocol <c>Ebms2</c>, as <see cref="EbmsAdapterExtensions.AddRelayEbmsAdapter"/> registers it.</summary>
    public static readonly DestinationProtocol<EbmsDestinationOptions> Protocol = new("Ebms2", ["http", "https"], Validate);

    public const int MinPartnerKeyLength = 16;

    public static void Validate(string key, EbmsDestinationOptions destination, ICollection<string> errors)
    {
        OptionRules.CheckNoUserInfo(key, destination, errors);
        // Auth and ClientCertificate towards the partner's MSH, as every destination that speaks HTTP.
        Http.HttpTransportDestinationValidator.Validate(key, destination, errors);
        var ebms = destination.Ebms;
        key += ":Ebms";
        // A receiving MSH answers a header it cannot read with an error list, for every message: found here instead.
        Party(key, "FromPartyId", ebms.FromPartyId, "FromPartyType", ebms.FromPartyType, errors);
        Party(key, "ToPartyId", ebms.ToPartyId, "ToPartyType", ebms.ToPartyType, errors);
        Required(key, "CpaId", ebms.CpaId, errors);
        Party(key, "Service", ebms.Service, "ServiceType", ebms.ServiceType, errors);
        Required(key, "Action", ebms.Action, errors);
        if (ebms.AckRequested && !ebms.SyncReply)
        {
            // The partner's MSH posts its acknowledgments to /ebms with this key; without one none could ever arrive.
            if (string.IsNullOrEmpty(ebms.PartnerKey))
            {
                errors.Add($"{key}:PartnerKey is required when {key}:SyncReply is false and {key}:AckRequested is true: the partner's MSH "
                    + "presents it when it posts its acknowledgments to /ebms (HTTP Basic: the destination's name and this key).");
            }
        }

        if (!string.IsNullOrEmpty(ebms.PartnerKey) && (ebms.PartnerKey.Length < MinPartnerKeyLength || ebms.PartnerKey.Any(c => char.IsControl(c) || char.IsWhiteSpace(c))))
        {
            // Never the key itself: it is a secret.
            errors.Add($"{key}:PartnerKey must be at least {MinPartnerKeyLength} characters without spaces or control characters (a random secret).");
        }

        if (ebms.TimeToLive is { } ttl && ttl <= TimeSpan.Zero)
        {
            errors.Add($"{key}:TimeToLive is {ttl}; it must be positive (or left out for none).");
        }
    }

    private static void Required(string key, string name, string? value, ICollection<string> errors)
    {
        if (value is null || value.Length == 0)
        {
            errors.Add($"{key}:{name} is required for an Ebms2 destination.");
        }
        else if (EbmsValues.Problem(value) is { } problem)
        {
            errors.Add($"{key}:{name} {problem}.");
        }
    }

    /// <summary>A value with an optional type (PartyId, Service): without the type, ebMS 2.0 wants the value to be a URI.</summary>
    private static void Party(string key, string name, string? value, string typeName, string? type, ICollection<string> errors)
    {
        Required(key, name, value, errors);
        if (type is not null && EbmsValues.Problem(type) is { } problem)
        {
            errors.Add($"{key}:{typeName} {problem}.");
        }
        else if (type is null && !string.IsNullOrEmpty(value) && EbmsValues.Problem(value) is null && !EbmsValues.IsUri(value))
        {
            errors.Add($"{key}:{name} is '{OptionRules.Shorten(value)}', which is not a URI: without {key}:{typeName}, ebMS 2.0 wants a URI "
                + "(give its type, e.g. urn:oasis:names:tc:ebxml-cppa:partyid-type:duns, or a URI such as urn:example:party).");
        }
    }
}

/// <summary>The shape of every text value of an ebMS header Relay writes (settings and a message's <c>ebms</c> fields).</summary>
internal static class EbmsValues
{
    public const int MaxLength = 256;

    /// <summary>Why <paramref name="value"/> cannot be a header value (the end of a sentence starting with its name), or null.</summary>
    public static string? Problem(string value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return "is empty";
        }

        if (value.Length > MaxLength)
        {
            return $"is longer than {MaxLength} characters";
        }

        if (value.Any(char.IsControl) || value.Any(char.IsSurrogate) && !IsWellFormed(value))
        {
            return "must be printable text on one line";
        }

        return value.Trim().Length != value.Length ? "has spaces around it" : null;
    }

    /// <summary>An absolute URI (a URN such as <c>urn:example:party</c> included).</summary>
    public static bool IsUri(string value) => Uri.TryCreate(value, UriKind.Absolute, out _) && value.Contains(':', StringComparison.Ordinal) && !value.Contains(' ', StringComparison.Ordinal);

    private static bool IsWellFormed(string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(value[i]))
            {
                return false;
            }
        }

        return true;
    }
}
