using Relay.Core.Options;

namespace Relay.Adapters.Http;

/// <summary>The rules of an HTTP destination's own settings (the shared ones are <see cref="RelayOptionsValidator"/>'s).</summary>
internal static class HttpDestinationValidator
{
    /// <summary>The protocol <c>Http</c>, as <see cref="HttpAdapterExtensions.AddRelayHttpAdapter"/> registers it.</summary>
    public static readonly DestinationProtocol<HttpDestinationOptions> Protocol = new("Http", ["http", "https"], Validate);

    public static void Validate(string key, HttpDestinationOptions destination, ICollection<string> errors)
    {
        if (!OptionRules.IsToken(destination.Method))
        {
            errors.Add($"{key}:Method is '{OptionRules.Shorten(destination.Method)}', which is not an HTTP method (for example POST or PUT).");
        }

        HttpTransportDestinationValidator.Validate(key, destination, errors);
    }
}
