using Microsoft.Extensions.DependencyInjection;
using Relay.Adapters.Ftp;

namespace Relay.Adapters;

public static class FtpAdapterExtensions
{
    /// <summary>Registers the FTP/FTPS adapter (<c>Protocol: Ftp</c>).</summary>
    public static IServiceCollection AddRelayFtpAdapter(this IServiceCollection services, Action<FtpAdapterOptions>? configure = null) =>
        services.AddProtocolAdapter<FtpAdapter, FtpAdapterOptions>(FtpDestinationValidator.Protocol, configure);
}
