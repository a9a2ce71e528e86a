using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Relay.Adapters.Http;

namespace Relay.Adapters;

public static class AdapterExtensions
{
    /// <summary>Registers the HTTP/REST adapter (<c>Protocol: Http</c>).</summary>
    public static IServiceCollection AddRelayHttpAdapter(this IServiceCollection services, Action<HttpAdapterOptions>? configure = null)
    {
        services.AddOptions<HttpAdapterOptions>();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<HttpAdapter>();
        services.AddSingleton<IProtocolAdapter>(sp => sp.GetRequiredService<HttpAdapter>());
        services.TryAddSingleton<ProtocolAdapters>();
        return services;
    }
}
