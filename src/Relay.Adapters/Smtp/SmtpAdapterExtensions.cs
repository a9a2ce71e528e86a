using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Relay.Adapters.Smtp;

namespace Relay.Adapters;

public static class SmtpAdapterExtensions
{
    /// <summary>Registers the SMTP adapter (<c>Protocol: Smtp</c>).</summary>
    public static IServiceCollection AddRelaySmtpAdapter(this IServiceCollection services, Action<SmtpAdapterOptions>? configure = null)
    {
        services.AddOptions<SmtpAdapterOptions>();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ProtocolAdapters>();
        // Called twice, it must not register the adapter twice: ProtocolAdapters refuses two of one protocol.
        if (services.Any(d => d.ServiceType == typeof(SmtpAdapter)))
        {
            return services;
        }

        services.AddSingleton<SmtpAdapter>();
        services.AddSingleton<IProtocolAdapter>(sp => sp.GetRequiredService<SmtpAdapter>());
        return services;
    }
}
