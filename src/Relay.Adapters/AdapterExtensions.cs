using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Relay.Adapters.Ebms;
using Relay.Adapters.Http;
using Relay.Adapters.Soap;
using Relay.Core.Options;

namespace Relay.Adapters;

public static class AdapterExtensions
{
    /// <summary>
    /// Registers every protocol adapter Relay ships, each with its <see cref="DestinationProtocol"/> (the values a
    /// destination's <c>Protocol</c> may take, and their settings). The HTTP-speaking adapters keep as much of an
    /// answer as <c>Relay:Limits:MaxResponseBodyBytes</c> says.
    /// </summary>
    public static IServiceCollection AddRelayAdapters(this IServiceCollection services)
    {
        services.AddRelayHttpAdapter();
        services.AddRelaySoapAdapter();
        services.AddRelayFtpAdapter();
        services.AddRelaySmtpAdapter();
        services.AddRelayLdapAdapter();
        services.AddRelayEbmsAdapter();
        services.AddOptions<HttpAdapterOptions>().Configure<IOptions<RelayOptions>>((o, relay) => o.MaxResponseBodyBytes = relay.Value.Limits.MaxResponseBodyBytes);
        services.AddOptions<SoapAdapterOptions>().Configure<IOptions<RelayOptions>>((o, relay) => o.MaxResponseBodyBytes = relay.Value.Limits.MaxResponseBodyBytes);
        services.AddOptions<EbmsAdapterOptions>().Configure<IOptions<RelayOptions>>((o, relay) => o.MaxResponseBodyBytes = relay.Value.Limits.MaxResponseBodyBytes);
        return services;
    }

    /// <summary>What every <c>AddRelay...Adapter</c> does: the adapter's options, its protocol, the adapter once.</summary>
    internal static IServiceCollection AddProtocolAdapter<TAdapter, TOptions>(this IServiceCollection services, DestinationProtocol protocol, Action<TOptions>? configure)
        where TAdapter : class, IProtocolAdapter
        where TOptions : class
    {
        services.AddOptions<TOptions>();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        return services.AddProtocolAdapter<TAdapter>(protocol);
    }

    /// <inheritdoc cref="AddProtocolAdapter{TAdapter, TOptions}"/>
    internal static IServiceCollection AddProtocolAdapter<TAdapter>(this IServiceCollection services, DestinationProtocol protocol)
        where TAdapter : class, IProtocolAdapter
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ProtocolAdapters>();
        services.TryAddSingleton<Core.Delivery.DestinationFaults>();
        services.AddDestinationProtocol(protocol);
        // Called twice, it must not register the adapter twice: ProtocolAdapters refuses two of one protocol.
        if (services.Any(d => d.ServiceType == typeof(TAdapter)))
        {
            return services;
        }

        services.AddSingleton<TAdapter>();
        services.AddSingleton<IProtocolAdapter>(sp => sp.GetRequiredService<TAdapter>());
        return services;
    }
}
