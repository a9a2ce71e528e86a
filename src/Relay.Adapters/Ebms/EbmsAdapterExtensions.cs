using Microsoft.Extensions.DependencyInjection;
using Relay.Adapters.Ebms;

namespace Relay.Adapters;

public static class EbmsAdapterExtensions
{
    /// <summary>Registers the ebXML adapter (<c>Protocol: Ebms2</c>), a sending ebMS 2.0 MSH.</summary>
    public static IServiceCollection AddRelayEbmsAdapter(this IServiceCollection services, Action<EbmsAdapterOptions>? configure = null) =>
        services.AddProtocolAdapter<EbmsAdapter, EbmsAdapterOptions>(EbmsDestinationValidator.Protocol, configure);
}
