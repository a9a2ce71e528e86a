using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Relay.Silo.Telemetry;

namespace Relay.Silo.Security;

/// <summary>
/// <c>Relay:ForwardedHeaders</c>: the reverse proxies (load balancers, TLS terminators) whose <c>X-Forwarded-For</c> and
/// <c>X-Forwarded-Proto</c> the silo believes. From them, the client's address (what failed-authentication throttling,
/// per-client limits and <c>Relay:Metrics:AllowedNetworks</c> judge by) and whether it came over HTTPS (the portal's
/// cookies are then <c>Secure</c>) are taken from those headers. Empty (the default): nobody's, not even loopback's
/// (ASP.NET Core's own default trusts loopback): anyone could otherwise claim any address by sending the header.
/// </summary>
public sealed class ForwardedHeadersSettings
{
    public const string SectionName = "Relay:ForwardedHeaders";

    /// <summary>Proxies as single addresses (<c>10.0.0.5</c>) or CIDR ranges (<c>10.1.0.0/16</c>, <c>fd00::/8</c>).</summary>
    public List<string> TrustedProxies { get; set; } = [];

    /// <summary>The configuration's problems, by full key path; nothing when it is valid.</summary>
    public static IReadOnlyList<string> Validate(IConfigurationSection section)
    {
        var problems = new List<string>();
        var proxies = section.GetSection(nameof(TrustedProxies));
        if (!string.IsNullOrEmpty(proxies.Value))
        {
            problems.Add($"{proxies.Path} holds a single value; give a list ({proxies.Path}:0=10.0.0.5).");
        }

        foreach (var entry in proxies.GetChildren())
        {
            if (!MetricsOptions.TryParseNetwork(entry.Value, out _))
            {
                problems.Add($"{entry.Path} is not an address or a network: give an address or a CIDR range with no bits set after its prefix (10.0.0.5, 10.1.0.0/16, fd00::/8), not '{entry.Value}'.");
            }
        }

        return problems;
    }

    /// <summary>ASP.NET Core's forwarded-headers options for these proxies, or <c>null</c> when none is trusted.</summary>
    internal ForwardedHeadersOptions? ToOptions()
    {
        if (TrustedProxies.Count == 0)
        {
            return null;
        }

        var options = new ForwardedHeadersOptions
        {
            ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto,
            // Through a chain of trusted proxies: each entry from the right is taken while the hop that added it is trusted.
            ForwardLimit = null,
        };
        options.KnownProxies.Clear();
        options.KnownIPNetworks.Clear();
        foreach (var proxy in TrustedProxies)
        {
            MetricsOptions.TryParseNetwork(proxy, out var network);
            options.KnownIPNetworks.Add(network);
        }

        return options;
    }

    /// <summary>Whether the connection's peer is one of the trusted proxies (they are not limited as one client).</summary>
    internal static bool Trusts(ForwardedHeadersOptions? options, IPAddress? peer)
    {
        if (options is null || peer is null)
        {
            return false;
        }

        if (peer.IsIPv4MappedToIPv6)
        {
            peer = peer.MapToIPv4();
        }

        return options.KnownIPNetworks.Any(n => n.Contains(peer));
    }
}
