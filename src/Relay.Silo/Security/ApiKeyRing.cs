using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Relay.Silo.Telemetry;

namespace Relay.Silo.Security;

/// <summary>
/// The configured keys. <see cref="Identify"/> compares a presented key with every configured key in constant time
/// (SHA-256 of both, then <see cref="CryptographicOperations.FixedTimeEquals"/>), so neither the match nor its
/// position leaks through timing.
/// <para>
/// The keys follow the configuration: when a source that reloads (<c>appsettings.json</c>,
/// <c>appsettings.{Environment}.json</c>) changes, the new keys replace the old at once. A change that would leave no
/// sender or operator key, or a key empty or blank, is refused (logged, the keys stay as they were), and so is one that
/// would switch keys on in a silo started without them: the listeners were chosen at start-up.
/// </para>
/// <para>
/// A portal session carries the <see cref="Fingerprint"/> of the key it signed in with, and <see cref="IdentifySession"/>
/// finds its caller again on every request: a key removed from the configuration (or changed) ends its sessions at
/// their next request, even though the cookie itself would still be valid until it expires.
/// </para>
/// </summary>
public sealed partial class ApiKeyRing : IDisposable
{
    private readonly bool _enabled;

    private readonly string? _scrapeKey;

    private readonly ILogger _logger;

    private readonly IDisposable? _subscription;

    /// <summary>Replaced whole on a reload: a reader takes it once and sees one configuration.</summary>
    private volatile (byte[] Hash, byte[] Fingerprint, RelayCaller Caller)[] _keys;

    public ApiKeyRing(IOptionsMonitor<SecurityOptions> options, IOptions<MetricsOptions> metrics, ILogger<ApiKeyRing> logger)
    {
        var security = options.CurrentValue;
        _logger = logger;
        _scrapeKey = metrics.Value.ScrapeKey;
        _keys = Build(security);
        // The scrape key alone does not switch keys on: without sender and operator keys, everyone is an operator anyway.
        _enabled = _keys.Length > 0;
        if (_enabled && !string.IsNullOrEmpty(_scrapeKey))
        {
            _keys = [.. _keys, Entry(_scrapeKey, new RelayCaller("scraper", RelayRole.Scraper))];
        }

        AllowAnonymous = security.AllowAnonymous;
        _subscription = options.OnChange(Reload);
    }

    public void Dispose() => _subscription?.Dispose();

    private static (byte[] Hash, byte[] Fingerprint, RelayCaller Caller)[] Build(SecurityOptions security) =>
    [
        .. security.OperatorKeys.Where(k => !string.IsNullOrEmpty(k.Value))
            .Select(k => Entry(k.Value, new RelayCaller(NameOf(k.Key, "operator"), RelayRole.Operator))),
        .. security.SenderKeys.Where(k => !string.IsNullOrEmpty(k.Value))
            .Select(k => Entry(k.Value, new RelayCaller(NameOf(k.Key, "sender"), RelayRole.Sender))),
    ];

    private void Reload(SecurityOptions security)
    {
        var blank = security.OperatorKeys.Concat(security.SenderKeys).Where(k => string.IsNullOrWhiteSpace(k.Value)).Select(k => k.Key).ToList();
        var keys = Build(security);
        if (!_enabled)
        {
            if (keys.Length > 0)
            {
                Log.ReloadNeedsRestart(_logger);
            }

            return;
        }

        if (blank.Count > 0 || keys.Length == 0)
        {
            Log.ReloadRefused(_logger, blank.Count > 0 ? $"empty key(s): {string.Join(", ", blank)}" : "no sender or operator key left");
            return;
        }

        if (!string.IsNullOrEmpty(_scrapeKey))
        {
            keys = [.. keys, Entry(_scrapeKey, new RelayCaller("scraper", RelayRole.Scraper))];
        }

        var before = _keys;
        _keys = keys;
        if (!before.Select(k => (Convert.ToBase64String(k.Hash), k.Caller)).ToHashSet().SetEquals(keys.Select(k => (Convert.ToBase64String(k.Hash), k.Caller))))
        {
            Log.Reloaded(_logger, security.SenderKeys.Count, security.OperatorKeys.Count);
        }
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
        foreach (var (candidate, _, caller) in _keys)
        {
            // No early exit: every configured key is compared, whatever matches.
            if (CryptographicOperations.FixedTimeEquals(hash, candidate) && found is null)
            {
                found = caller;
            }
        }

        return found;
    }

    /// <summary>
    /// What a portal session keeps of its key: a hash of the key's hash (inside the cookie, which Data Protection
    /// encrypts and signs), enough to find the key again, never the key. <c>null</c> for a key that is not configured.
    /// </summary>
    public string? Fingerprint(string? presented)
    {
        if (Identify(presented) is null)
        {
            return null;
        }

        return Convert.ToBase64String(FingerprintOf(Hash(presented!)));
    }

    /// <summary>The caller whose key has this <see cref="Fingerprint"/>, or <c>null</c> when that key is no longer configured.</summary>
    public RelayCaller? IdentifySession(string? fingerprint)
    {
        if (string.IsNullOrEmpty(fingerprint) || fingerprint.Length > 64)
        {
            return null;
        }

        var bytes = new byte[32];
        if (!Convert.TryFromBase64String(fingerprint, bytes, out var written) || written != bytes.Length)
        {
            return null;
        }

        RelayCaller? found = null;
        foreach (var (_, candidate, caller) in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(bytes, candidate) && found is null)
            {
                found = caller;
            }
        }

        return found;
    }

    private static (byte[] Hash, byte[] Fingerprint, RelayCaller Caller) Entry(string key, RelayCaller caller)
    {
        var hash = Hash(key);
        return (hash, FingerprintOf(hash), caller);
    }

    private static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    private static byte[] FingerprintOf(byte[] hash)
    {
        // Domain-separated from the hash the ring compares keys by: a session's fingerprint is not a key's hash.
        byte[] input = [.. "relay-portal-session:"u8, .. hash];
        return SHA256.HashData(input);
    }

    /// <summary>A list entry (<c>"0"</c>, <c>"1"</c>) is named by role and index; a named entry by its name.</summary>
    private static string NameOf(string configKey, string role) =>
        configKey.All(char.IsAsciiDigit) ? $"{role}#{configKey}" : configKey;

    private static partial class Log
    {
        [LoggerMessage(EventId = 4005, Level = LogLevel.Information,
            Message = "API keys reloaded from the configuration: {SenderKeys} sender key(s), {OperatorKeys} operator key(s)")]
        public static partial void Reloaded(ILogger logger, int senderKeys, int operatorKeys);

        [LoggerMessage(EventId = 4006, Level = LogLevel.Error,
            Message = "API keys not reloaded, the previous keys stay: {Reason}")]
        public static partial void ReloadRefused(ILogger logger, string reason);

        [LoggerMessage(EventId = 4007, Level = LogLevel.Warning,
            Message = "API keys appeared in the configuration of a silo started without keys: restart it to require them")]
        public static partial void ReloadNeedsRestart(ILogger logger);
    }
}
