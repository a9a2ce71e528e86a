using Microsoft.Extensions.DependencyInjection;

namespace Relay.Adapters.Soap;

public static class SoapAdapterExtensions
{
    /// <summary>Registers the SOAP adapter (<c>Protocol: Soap</c>).</summary>
    public static IServiceCollection AddRelaySoapAdapter(this IServiceCollection services, Action<SoapAdapterOptions>? configure = null) =>
        services.AddProtocolAdapter<SoapAdapter, SoapAdapterOptions>(SoapDestinationValidator.Protocol, configure);
}
