using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Relay.Adapters.Ftp;

namespace Relay.Adapters;

public static class FtpAdapterExtensions
{
    /// <summary>Registers the FTP/FTPS adapter (<c>Protocol: Ftp</c>).</summary>
    public static IServiceCollection AddRelayFtpAdapter(this IServiceCollection services, Action<FtpAdapterOptions>? configure = null)
    {
        services.AddOptions<FtpAdapterOptions>();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddSingleton<ProtocolAdapters>();
        // Called twice, it must not register the adapter twice: ProtocolAdapters refuses two of one protocol.
        if (services.Any(d => d.ServiceType == typeof(FtpAdapter)))
        {
            return services;
        }

        services.AddSingleton<FtpAdapter>();
        services.AddSingleton<IProtocolAdapter>(sp => sp.GetRequiredService<FtpAdapter>());
        return services;
    }
}
