using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Relay.Silo.Telemetry;

namespace Relay.Silo.Security;

/// <summary>
/// The configured keys. <see cref="Identify"/> compares a presented key with every configured key in constant time
/// (SHA-256 of both, then <see cref="CryptographicOperations.FixedTimeEquals"/>), so neither the match nor its
/// position leaks through timing.
/// </summary>
public sealed class ApiKeyRing
{
    private readonly (byte[] Hash, RelayCaller Caller)[] _keys;

    private readonly bool _enabled;

    public ApiKeyRing(IOptions<SecurityOptions> options, IOptions<MetricsOptions> metrics)
    {
        var security = options.Value;
        _keys =
        [
            .. security.OperatorKeys.Where(k => !string.IsNullOrEmpty(k.Value))
                .Select(k => (Hash(k.Value), new RelayCaller(NameOf(k.Key, "operator"), RelayRole.Operator))),
            .. security.SenderKeys.Where(k => !string.IsNullOrEmpty(k.Value))
                .Select(k => (Hash(k.Value), new RelayCaller(NameOf(k.Key, "sender"), RelayRole.Sender))),
        ];
        // The scrape key alone does not switch keys on: without sender and operator keys, everyone is an operator anyway.
        _enabled = _keys.Length > 0;
        if (_enabled && !string.IsNullOrEmpty(metrics.Value.ScrapeKey))
        {
            _keys = [.. _keys, (Hash(metrics.Value.ScrapeKey), new RelayCaller("scraper", RelayRole.Scraper))];
        }

        AllowAnonymous = security.AllowAnonymous;
    }

    /// <summary>At least one sender or operator key is configured: every request must carry one.</summary>
    public bool Enabled => _enabled;

    /// <summary><c>Relay:Security:AllowAnonymous</c>.</summary>
    public bool AllowAnonymous { get; }

    /// <summary>The caller a key belongs to, or <c>null</c> for an unknown or empty key.</summary>
    public RelayCaller? Identify(string? presented)
    {
        if (string.IsNullOrEmpty(presented) || presented.Length > 4096)
        {
            return null;
        }

        var hash = Hash(presented);
        RelayCaller? found = null;
        foreach (var (candidate, caller) in _keys)
        {
            // No early exit: every configured key is compared, whatever matches.
            if (CryptographicOperations.FixedTimeEquals(hash, candidate) && found is null)
            {
                found = caller;
            }
        }

        return found;
    }

    private static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    /// <summary>A list entry (<c>"0"</c>, <c>"1"</c>) is named by role and index; a named entry by its name.</summary>
    private static string NameOf(string configKey, string role) =>
        configKey.All(char.IsAsciiDigit) ? $"{role}#{configKey}" : configKey;
}
