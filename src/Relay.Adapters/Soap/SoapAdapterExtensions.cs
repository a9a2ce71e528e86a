using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Relay.Adapters.Soap;

public static class SoapAdapterExtensions
{
    /// <summary>Registers the SOAP adapter (<c>Protocol: Soap</c>).</summary>
    public static IServiceCollection AddRelaySoapAdapter(this IServiceCollection services, Action<SoapAdapterOptions>? configure = null)
    {
        services.AddOptions<SoapAdapterOptions>();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<SoapAdapter>();
        services.AddSingleton<IProtocolAdapter>(sp => sp.GetRequiredService<SoapAdapter>());
        services.TryAddSingleton<ProtocolAdapters>();
        return services;
    }
}
