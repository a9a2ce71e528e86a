using Relay.Adapters.Http;
using Relay.Core.Options;

namespace Relay.Adapters.Soap;

/// <summary>The rules of a SOAP destination's own settings (the shared ones are <see cref="RelayOptionsValidator"/>'s).</summary>
internal static class SoapDestinationValidator
{
    /// <summary>The protocol <c>Soap</c>, as <see cref="SoapAdapterExtensions.AddRelaySoapAdapter"/> registers it.</summary>
    public static readonly DestinationProtocol<SoapDestinationOptions> Protocol = new("Soap", ["http", "https"], Validate);

    public static void Validate(string key, SoapDestinationOptions destination, ICollection<string> errors)
    {
        // Found at start-up, not at the first attempt: an unknown version would dead-letter every message.
        if (SoapVersion.Parse(destination.SoapVersion) is null)
        {
            errors.Add($"{key}:SoapVersion is '{OptionRules.Shorten(destination.SoapVersion)}'; it must be 1.1 or 1.2.");
        }

        Add(errors, SecretReference.Problem($"{key}:Password", destination.Password));
        HttpTransportDestinationValidator.Validate(key, destination, errors);
    }

    private static void Add(ICollection<string> errors, string? problem)
    {
        if (problem is not null)
        {
            errors.Add(problem);
        }
    }
}
