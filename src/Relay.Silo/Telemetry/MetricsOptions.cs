using System.Net;

namespace Relay.Silo.Telemetry;

/// <summary>
/// <c>Relay:Metrics</c>: who may read <c>GET /metrics</c> besides operators: a scraper with its own key, and callers
/// from given networks. Neither opens anything else.
/// </summary>
public sealed class MetricsOptions
{
    public const string SectionName = "Relay:Metrics";

    /// <summary>
    /// A key that reads <c>/metrics</c> and nothing else (Prometheus's bearer token), sent as an API key is
    /// (<c>Authorization: Bearer</c> or <c>X-Api-Key</c>). A secret: never logged. Unset: no such key.
    /// </summary>
    public string? ScrapeKey { get; set; }

    /// <summary>
    /// Networks whose callers read <c>/metrics</c> without a key, in CIDR notation (<c>10.0.0.0/8</c>,
    /// <c>fd00::/8</c>) or single addresses (<c>192.0.2.7</c>), judged by the connection's peer address. Empty (the
    /// default): none.
    /// </summary>
    public List<string> AllowedNetworks { get; set; } = [];

    /// <summary>The networks of <see cref="AllowedNetworks"/>, parsed (valid after <see cref="Validate"/>).</summary>
    internal IReadOnlyList<IPNetwork> Networks() => AllowedNetworks.Select(n => TryParseNetwork(n, out var network) ? network : throw new FormatException(n)).ToArray();

    /// <summary>Whether <paramref name="address"/> is in one of <paramref name="networks"/> (an IPv4 address mapped to IPv6 counts as IPv4).</summary>
    internal static bool Allows(IReadOnlyList<IPNetwork> networks, IPAddress? address)
    {
        if (address is null || networks.Count == 0)
        {
            return false;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        return networks.Any(n => n.Contains(address));
    }

    /// <summary>
    /// The configuration's problems, by full key path (never a key's value): checked before anything starts, so that a
    /// scrape key whose secret did not arrive, or a network mistyped, stops the silo instead of being dropped.
    /// </summary>
    public static IReadOnlyList<string> Validate(IConfigurationSection metrics)
    {
        var problems = new List<string>();
        var key = metrics.GetSection(nameof(ScrapeKey));
        if (key.GetChildren().Any())
        {
            problems.Add($"{key.Path} is not a key: a key is one text value.");
        }
        else if (key.Value is { } value && string.IsNullOrWhiteSpace(value))
        {
            problems.Add($"{key.Path} is empty; a key must not be empty or blank (remove the entry, or give it the key).");
        }

        var networks = metrics.GetSection(nameof(AllowedNetworks));
        if (!string.IsNullOrEmpty(networks.Value))
        {
            problems.Add($"{networks.Path} holds a single value; give a list ({networks.Path}:0=10.0.0.0/8).");
        }

        foreach (var entry in networks.GetChildren())
        {
            if (!TryParseNetwork(entry.Value, out _))
            {
                problems.Add($"{entry.Path} is not a network: give an address or a CIDR range with no bits set after its prefix (10.0.0.0/8, fd00::/8), not '{entry.Value}'.");
            }
        }

        return problems;
    }

    internal static bool TryParseNetwork(string? text, out IPNetwork network)
    {
        network = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        text = text.Trim();
        if (!text.Contains('/', StringComparison.Ordinal) && IPAddress.TryParse(text, out var address))
        {
            network = new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
            return true;
        }

        // 10.0.0.1/8 is refused too (some versions of IPNetwork take it as 10.0.0.0/8): a mistyped range, or an address
        // meant alone, is better named at start-up than guessed.
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        return slash > 0
            && IPAddress.TryParse(text.AsSpan(0, slash), out var written)
            && IPNetwork.TryParse(text, out network)
            && network.BaseAddress.Equals(written);
    }
}
