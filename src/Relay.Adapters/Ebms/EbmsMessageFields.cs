using Relay.Contracts;
using Relay.Core.Messages;
using Relay.Core.Options;

namespace Relay.Adapters.Ebms;

/// <summary>
/// A message's own <c>Service</c> and <c>Action</c> (<see cref="SendRequest.Ebms"/>): checked at acceptance (bad values
/// refuse the message whole: 400 or a SOAP fault, nothing stored), then kept with the message's content as protocol
/// fields (<see cref="ProtocolFields"/>), so that every attempt and every resubmit sends the same.
/// </summary>
internal static class EbmsMessageFields
{
    public const string Service = ProtocolFields.Prefix + "Ebms-Service";
    public const string ServiceType = ProtocolFields.Prefix + "Ebms-ServiceType";
    public const string Action = ProtocolFields.Prefix + "Ebms-Action";

    /// <inheritdoc cref="ProtocolFieldRule"/>
    public static RelayError? Take(SendRequest request, IReadOnlyList<KeyValuePair<string, DestinationOptions>> destinations, IDictionary<string, string> stored)
    {
        if (request.Ebms is not { } ebms)
        {
            return null;
        }

        foreach (var (name, destination) in destinations)
        {
            if (destination is not EbmsDestinationOptions)
            {
                return RelayError.BadRequest($"'ebms' is for ebXML destinations, but the destination '{name}' speaks {destination.Protocol}.",
                    "Leave 'ebms' out, or send the message to Ebms2 destinations only.");
            }
        }

        if (ebms.ServiceType is not null && ebms.Service is null)
        {
            return RelayError.BadRequest("'ebms.serviceType' is given without 'ebms.service'.",
                "A message's service replaces the destination's service and type together: give 'ebms.service' with it.");
        }

        foreach (var (field, value) in new[] { ("service", ebms.Service), ("serviceType", ebms.ServiceType), ("action", ebms.Action) })
        {
            if (value is not null && EbmsValues.Problem(value) is { } problem)
            {
                return RelayError.BadRequest($"'ebms.{field}' {problem}.", $"ebMS header values are 1 to {EbmsValues.MaxLength} printable characters.");
            }
        }

        if (ebms.Service is not null && ebms.ServiceType is null && !EbmsValues.IsUri(ebms.Service))
        {
            return RelayError.BadRequest($"'ebms.service' is '{OptionRules.Shorten(ebms.Service)}', which is not a URI.",
                "Without 'ebms.serviceType', ebMS 2.0 wants the service to be a URI (such as urn:example:orders); or give its type.");
        }

        if (ebms.Service is not null)
        {
            stored[Service] = ebms.Service;
            if (ebms.ServiceType is not null)
            {
                stored[ServiceType] = ebms.ServiceType;
            }
        }

        if (ebms.Action is not null)
        {
            stored[Action] = ebms.Action;
        }

        return null;
    }
}
