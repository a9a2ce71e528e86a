using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Relay.Adapters.Http;

namespace Relay.Adapters;

public static class AdapterExtensions
{
    /// <summary>The protocols <see cref="AddRelayAdapters"/> registers: the values a destination's <c>Protocol</c> may take.</summary>
    public static readonly IReadOnlyList<string> Protocols = ["Http"];

    /// <summary>Registers every protocol adapter Relay ships.</summary>
    public static IServiceCollection AddRelayAdapters(this IServiceCollection services, int maxResponseBodyBytes)
    {
        services.AddRelayHttpAdapter(o => o.MaxResponseBodyBytes = maxResponseBodyBytes);
        return services;
    }

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
