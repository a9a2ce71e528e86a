using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Relay.Adapters.Http;
using Relay.Adapters.Soap;

namespace Relay.Adapters;

public static class AdapterExtensions
{
    /// <summary>The protocols <see cref="AddRelayAdapters"/> registers: the values a destination's <c>Protocol</c> may take.</summary>
    public static readonly IReadOnlyList<string> Protocols = ["Http", "Soap", "Ftp", "Smtp", "Ldap"];

    /// <summary>Registers every protocol adapter Relay ships.</summary>
    public static IServiceCollection AddRelayAdapters(this IServiceCollection services, int maxResponseBodyBytes)
    {
        services.AddRelayHttpAdapter(o => o.MaxResponseBodyBytes = maxResponseBodyBytes);
        services.AddRelaySoapAdapter(o => o.MaxResponseBodyBytes = maxResponseBodyBytes);
        services.AddRelayFtpAdapter();
        services.AddRelaySmtpAdapter();
        services.AddRelayLdapAdapter();
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
