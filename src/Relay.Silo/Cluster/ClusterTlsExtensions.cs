using Microsoft.Extensions.Options;
using Orleans.Connections.Security;
using Relay.Core.Options;

namespace Relay.Silo.Cluster;

public static partial class ClusterTlsExtensions
{
    /// <summary>
    /// Mutual TLS on the silo port (both ways) and on the gateway port, when <paramref name="tls"/> says so: the peer must
    /// present a certificate that chains to the cluster's CA, or the connection ends at the handshake.
    /// </summary>
    public static ISiloBuilder UseRelayClusterTls(this ISiloBuilder silo, ClusterTls tls)
    {
        ArgumentNullException.ThrowIfNull(tls);
        silo.Services.AddSingleton(tls);
        if (tls.Certificate is null)
        {
            return silo;
        }

        return silo.UseTls(tls.Certificate, options =>
        {
            // Required of whoever connects in (a silo, or a client at the gateway)...
            options.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
            // ...and sent by this silo when it connects out; a certificate unfit for that fails at start-up, not per connection.
            options.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
            // Replaces the platform's verdict (which trusts the machine's roots and wants a host name): the cluster's CA decides.
            options.RemoteCertificateValidation = (certificate, chain, platformErrors) => tls.AcceptsPeer(certificate, chain);
        });
    }

    /// <summary>Says at start-up how the cluster's ports are protected; loudly when they are open beyond this machine.</summary>
    public static void LogRelayClusterTls(this WebApplication app)
    {
        var tls = app.Services.GetRequiredService<ClusterTls>();
        var cluster = app.Services.GetRequiredService<IOptions<RelayOptions>>().Value.Cluster;
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Relay.Cluster");
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            if (tls.Enabled)
            {
                Log.TlsOn(logger, cluster.SiloPort, cluster.GatewayPort, tls.Certificate!.Subject,
                    string.Join("; ", tls.Authorities.Select(a => a.Subject)));
            }
            else if (tls.OpenBeyondLoopback)
            {
                Log.OpenBeyondLoopback(logger, cluster.SiloPort, cluster.GatewayPort, cluster.AdvertisedIP);
            }
        });
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6001, Level = LogLevel.Information,
            Message = "Cluster ports (silo {SiloPort}, gateway {GatewayPort}) use mutual TLS: this silo is {Subject}; peers must chain to {Authorities}")]
        public static partial void TlsOn(ILogger logger, int siloPort, int gatewayPort, string subject, string authorities);

        [LoggerMessage(EventId = 6002, Level = LogLevel.Warning,
            Message = "Relay:Cluster:Tls:Enabled is false and the cluster advertises {AdvertisedIP}: the silo port {SiloPort} and the gateway port {GatewayPort} "
                      + "listen on every address WITHOUT authentication. Anyone who reaches them can connect an Orleans client and read, resubmit or discard "
                      + "any message, whatever the API keys. Configure Relay:Cluster:Tls (docs/OPERATIONS.md, \"TLS between silos\") or firewall these ports")]
        public static partial void OpenBeyondLoopback(ILogger logger, int siloPort, int gatewayPort, string advertisedIP);
    }
}
