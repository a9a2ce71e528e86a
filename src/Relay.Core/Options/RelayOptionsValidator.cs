using System.Globalization;
using System.Text.RegularExpressions;

namespace Relay.Core.Options;

/// <summary>
/// Checks the section <c>Relay</c> at start-up. Each problem is one line that names the configuration
/// key in colon form (as an operator would write it with <c>--Relay:...=</c>), so a bad configuration
/// stops the silo with a message that says what to change, instead of failing at the first message.
/// </summary>
public static partial class RelayOptionsValidator
{
    /// <summary>The protocol adapters this build has.</summary>
    public static readonly IReadOnlyCollection<string> DefaultKnownProtocols = ["Http"];

    /// <summary>Upper bound of <see cref="DestinationOptions.SyncTimeout"/> and <see cref="DestinationOptions.Timeout"/>.</summary>
    public static readonly TimeSpan MaxAttemptTimeout = TimeSpan.FromMinutes(5);

    /// <summary>Upper bound of <see cref="LimitOptions.MaxPayloadBytes"/>: a payload is held in memory and in one row.</summary>
    public const int MaxPayloadBytesLimit = 64 * 1024 * 1024;

    private const string Root = RelayOptions.SectionName;

    // The address schemes each protocol adapter can call; a protocol missing here is only checked for an absolute URI.
    private static readonly Dictionary<string, string[]> SchemesByProtocol = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Http"] = ["http", "https"],
        ["Soap"] = ["http", "https"],
        ["Ftp"] = ["ftp"],
        ["Smtp"] = ["smtp"],
        ["Ldap"] = ["ldap"],
    };

    private static readonly string[] StorageProviders = ["Sqlite", "AdoNet"];
    private static readonly string[] SqliteSynchronousModes = ["Off", "Normal", "Full", "Extra"];

    // Names end up in grain keys joined with '/', in metric labels and in URLs: keep them to a safe alphabet.
    [GeneratedRegex("^[A-Za-z0-9._-]{1,100}$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    public static IReadOnlyList<string> Validate(RelayOptions options) => Validate(options, DefaultKnownProtocols);

    /// <summary>Every problem of <paramref name="options"/>, one line each; empty when the configuration is usable.</summary>
    /// <param name="knownProtocols">The protocol adapters registered, compared case-insensitively.</param>
    public static IReadOnlyList<string> Validate(RelayOptions options, IReadOnlyCollection<string> knownProtocols)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(knownProtocols);
        var errors = new List<string>();
        ValidateStorage(options.Storage, errors);
        ValidateCluster(options.Cluster, errors);
        ValidateContracts(options.Contracts, errors);
        ValidateDestinations(options, knownProtocols, errors);
        ValidateTopics(options, errors);
        ValidateLimits(options.Limits, errors);
        ValidateAudit(options.Audit, errors);
        ValidateScheduler(options.Scheduler, errors);
        return errors;
    }

    private static void ValidateStorage(StorageOptions? storage, List<string> errors)
    {
        const string key = Root + ":Storage";
        if (storage is null)
        {
            return;
        }

        var provider = storage.Provider;
        if (!StorageProviders.Contains(provider, StringComparer.OrdinalIgnoreCase))
        {
            errors.Add($"{key}:Provider is '{Shorten(provider)}'; it must be one of {string.Join(", ", StorageProviders)}.");
        }
        else if (string.Equals(provider, "AdoNet", StringComparison.OrdinalIgnoreCase))
        {
            // The connection string is a secret: say that it is missing, never what it is.
            if (string.IsNullOrWhiteSpace(storage.ConnectionString))
            {
                errors.Add($"{key}:ConnectionString is required when {key}:Provider is AdoNet.");
            }

            if (!string.Equals(storage.Invariant, "Npgsql", StringComparison.OrdinalIgnoreCase))
            {
                errors.Add($"{key}:Invariant is '{Shorten(storage.Invariant ?? "")}'; Relay's cluster runs on PostgreSQL: use Npgsql.");
            }

            if (storage.MaxPoolSize is < 1 or > 1000)
            {
                errors.Add($"{key}:MaxPoolSize is {storage.MaxPoolSize}; it must be between 1 and 1000 (and the silos' sum below PostgreSQL's max_connections).");
            }
        }
        else if (string.IsNullOrWhiteSpace(storage.DataPath))
        {
            errors.Add($"{key}:DataPath is empty; it names the folder of the SQLite database (default ./data).");
        }

        if (!SqliteSynchronousModes.Contains(storage.SqliteSynchronous, StringComparer.OrdinalIgnoreCase))
        {
            errors.Add($"{key}:SqliteSynchronous is '{Shorten(storage.SqliteSynchronous)}'; it must be one of {string.Join(", ", SqliteSynchronousModes)}.");
        }
    }

    private static void ValidateCluster(RelayClusterOptions? cluster, List<string> errors)
    {
        const string key = Root + ":Cluster";
        if (cluster is null)
        {
            return;
        }

        if (string.IsNullOrWhiteSpace(cluster.ClusterId))
        {
            errors.Add($"{key}:ClusterId is empty.");
        }

        if (string.IsNullOrWhiteSpace(cluster.ServiceId))
        {
            errors.Add($"{key}:ServiceId is empty.");
        }

        if (!System.Net.IPAddress.TryParse(cluster.AdvertisedIP, out _))
        {
            errors.Add($"{key}:AdvertisedIP is '{Shorten(cluster.AdvertisedIP ?? "")}'; it must be an IP address (the one other silos reach this silo at).");
        }

        CheckPort($"{key}:SiloPort", cluster.SiloPort, errors);
        CheckPort($"{key}:GatewayPort", cluster.GatewayPort, errors);
        if (cluster.SiloPort == cluster.GatewayPort)
        {
            errors.Add($"{key}:GatewayPort is {cluster.GatewayPort}, the same as {key}:SiloPort; they must differ.");
        }
    }

    private static void CheckPort(string key, int port, List<string> errors)
    {
        if (port is < 1 or > 65535)
        {
            errors.Add($"{key} is {port}; it must be between 1 and 65535.");
        }
    }

    private static void ValidateContracts(Dictionary<string, RetryContractOptions>? contracts, List<string> errors)
    {
        if (contracts is null)
        {
            return;
        }

        foreach (var (name, contract) in contracts.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            var key = $"{Root}:Contracts:{name}";
            CheckName(key, "contract", name, errors);
            if (contract is null)
            {
                errors.Add($"{key} is empty; give at least MaxAttempts and Delay.");
                continue;
            }

            if (contract.MaxAttempts < 1)
            {
                errors.Add($"{key}:MaxAttempts is {contract.MaxAttempts}; it must be at least 1 (the first attempt counts).");
            }

            if (contract.Delay < TimeSpan.Zero)
            {
                errors.Add($"{key}:Delay is {Format(contract.Delay)}; it must not be negative.");
            }

            if (contract.MaxDelay is { } maxDelay && maxDelay < contract.Delay)
            {
                errors.Add($"{key}:MaxDelay is {Format(maxDelay)}, less than {key}:Delay ({Format(contract.Delay)}).");
            }

            // Written so that NaN fails too.
            if (!(contract.Jitter is >= 0 and <= 1))
            {
                errors.Add($"{key}:Jitter is {contract.Jitter.ToString(CultureInfo.InvariantCulture)}; it must be between 0 and 1.");
            }

            if (!Enum.IsDefined(contract.Backoff))
            {
                errors.Add($"{key}:Backoff is {(int)contract.Backoff}; it must be Fixed, Linear or Exponential.");
            }
        }
    }

    private static void ValidateDestinations(RelayOptions options, IReadOnlyCollection<string> knownProtocols, List<string> errors)
    {
        if (options.Destinations is null)
        {
            return;
        }

        foreach (var (name, destination) in options.Destinations.OrderBy(d => d.Key, StringComparer.Ordinal))
        {
            var key = $"{Root}:Destinations:{name}";
            CheckName(key, "destination", name, errors);
            if (name == Messages.MessageValidator.NotifyNone)
            {
                errors.Add($"{key}: the name '{Messages.MessageValidator.NotifyNone}' is reserved ('notify': \"none\" asks for no notification); choose another name.");
            }

            if (destination is null)
            {
                errors.Add($"{key} is empty; give at least Protocol and Address.");
                continue;
            }

            ValidateDestination(options, key, destination, knownProtocols, errors);
        }
    }

    private static void ValidateDestination(RelayOptions options, string key, DestinationOptions destination,
        IReadOnlyCollection<string> knownProtocols, List<string> errors)
    {
        var protocol = destination.Protocol;
        var protocolKnown = protocol is not null && knownProtocols.Contains(protocol, StringComparer.OrdinalIgnoreCase);
        if (!protocolKnown)
        {
            errors.Add($"{key}:Protocol is '{Shorten(protocol)}'; it must be one of {string.Join(", ", knownProtocols)}.");
        }

        // The address may carry credentials (user info, a key in the query): name the problem, not the value.
        if (string.IsNullOrWhiteSpace(destination.Address))
        {
            errors.Add($"{key}:Address is empty; give the absolute URI the destination is called at.");
        }
        else if (!Uri.TryCreate(destination.Address, UriKind.Absolute, out var address))
        {
            errors.Add($"{key}:Address is not an absolute URI (for example http://host:port/path).");
        }
        else if (protocolKnown && SchemesByProtocol.TryGetValue(protocol!, out var schemes)
                 && !schemes.Contains(address.Scheme, StringComparer.OrdinalIgnoreCase))
        {
            errors.Add($"{key}:Address has the scheme '{Shorten(address.Scheme)}', which the {protocol} protocol cannot call (allowed: {string.Join(", ", schemes)}).");
        }

        if (string.Equals(protocol, "Http", StringComparison.OrdinalIgnoreCase) && !IsToken(destination.Method))
        {
            errors.Add($"{key}:Method is '{Shorten(destination.Method)}', which is not an HTTP method (for example POST or PUT).");
        }

        if (destination.Contract is { } contract && contract != RelayOptions.DefaultContractName
            && (options.Contracts is null || !options.Contracts.ContainsKey(contract)))
        {
            errors.Add($"{key}:Contract names the unknown contract '{Shorten(contract)}' (known: {Known(options.Contracts?.Keys)}).");
        }

        if (destination.Notify is { } notify && (options.Destinations is null || !options.Destinations.ContainsKey(notify)))
        {
            errors.Add($"{key}:Notify names the unknown destination '{Shorten(notify)}' (known: {Known(options.Destinations?.Keys)}); leave it out for no notification.");
        }

        CheckTimeout($"{key}:SyncTimeout", destination.SyncTimeout, errors);
        CheckTimeout($"{key}:Timeout", destination.Timeout, errors);
        CheckAtLeastOne($"{key}:MaxConcurrency", destination.MaxConcurrency, errors);
        CheckAtLeastOne($"{key}:MaxPerSecond", destination.MaxPerSecond, errors);
        CheckAtLeastOne($"{key}:FailureThreshold", destination.FailureThreshold, errors);
        if (destination.BreakDuration is { } breakDuration && breakDuration <= TimeSpan.Zero)
        {
            errors.Add($"{key}:BreakDuration is {Format(breakDuration)}; it must be positive.");
        }

        if (!Enum.IsDefined(destination.NotifyOn))
        {
            errors.Add($"{key}:NotifyOn is {(int)destination.NotifyOn}; it must be AfterRetry or Always.");
        }

        if (destination.Headers is not null)
        {
            foreach (var (header, value) in destination.Headers.OrderBy(h => h.Key, StringComparer.Ordinal))
            {
                // Header values are secrets (API keys): never printed.
                if (!IsToken(header))
                {
                    errors.Add($"{key}:Headers:{header} is not a valid HTTP header name.");
                }
                else if (value is null || value.Any(c => char.IsControl(c) && c != '\t'))
                {
                    errors.Add($"{key}:Headers:{header} has a value that is not single-line text.");
                }
            }
        }

        // The settings of a protocol are checked only when its adapter is there: an unknown protocol is one error, not many.
        if (!protocolKnown)
        {
            return;
        }

        if (string.Equals(protocol, "Ftp", StringComparison.OrdinalIgnoreCase))
        {
            ValidateFtp(key, destination, errors);
        }
        else if (string.Equals(protocol, "Smtp", StringComparison.OrdinalIgnoreCase))
        {
            ValidateSmtp(key, destination, errors);
        }
        else if (string.Equals(protocol, "Ldap", StringComparison.OrdinalIgnoreCase))
        {
            ValidateLdap(key, destination, errors);
        }
    }

    // --- FTP, SMTP, LDAP (docs/ADAPTERS.md). Passwords are secrets: a rule may say one is missing, never what it is.

    private static void ValidateFtp(string key, DestinationOptions destination, List<string> errors)
    {
        if (TryAddress(destination, out var address))
        {
            CheckNoUserInfo(key, address, errors);
            if (Uri.UnescapeDataString(address.AbsolutePath).Any(char.IsControl))
            {
                errors.Add($"{key}:Address has control characters in its folder.");
            }
        }

        var fileName = destination.FileName;
        if (string.IsNullOrEmpty(fileName) || !fileName.Contains("{id}", StringComparison.Ordinal)
            || fileName.IndexOfAny(['/', '\\']) >= 0 || fileName.Any(char.IsControl))
        {
            errors.Add($"{key}:FileName is '{Shorten(fileName)}'; it must contain {{id}} (each message its own file, which a retry overwrites) and no '/', '\\' or control characters (default {{id}}.dat).");
        }

        if (string.IsNullOrEmpty(destination.Username) && !string.IsNullOrEmpty(destination.Password))
        {
            errors.Add($"{key}:Password is set but {key}:Username is not; give both, or neither to log in as anonymous.");
        }
    }

    private static void ValidateSmtp(string key, DestinationOptions destination, List<string> errors)
    {
        if (TryAddress(destination, out var address))
        {
            CheckNoUserInfo(key, address, errors);
        }

        if (string.IsNullOrWhiteSpace(destination.From))
        {
            errors.Add($"{key}:From is required for an Smtp destination (the sender's address, e.g. relay@example.com).");
        }
        else if (!IsMailAddress(destination.From))
        {
            errors.Add($"{key}:From is '{Shorten(destination.From)}', which is not a mail address.");
        }

        if (destination.To is null || destination.To.Count == 0)
        {
            errors.Add($"{key}:To is empty; an Smtp destination needs at least one recipient ({key}:To:0).");
        }
        else
        {
            for (var i = 0; i < destination.To.Count; i++)
            {
                if (!IsMailAddress(destination.To[i]))
                {
                    errors.Add($"{key}:To:{i} is '{Shorten(destination.To[i])}', which is not a mail address.");
                }
            }
        }

        if (destination.Subject is null || destination.Subject.Any(char.IsControl))
        {
            errors.Add($"{key}:Subject must be one line of text (default {{id}}).");
        }

        if (string.IsNullOrEmpty(destination.Username) != string.IsNullOrEmpty(destination.Password))
        {
            errors.Add($"{key}:Username and {key}:Password go together: give both to authenticate, or neither.");
        }
    }

    private static void ValidateLdap(string key, DestinationOptions destination, List<string> errors)
    {
        if (TryAddress(destination, out var address))
        {
            // A path (an LDAP URL's base DN) is ignored: the payload names full DNs.
            CheckNoUserInfo(key, address, errors);
        }

        if (string.IsNullOrEmpty(destination.BindDn) != string.IsNullOrEmpty(destination.Password))
        {
            errors.Add($"{key}:BindDn and {key}:Password go together: give both for a simple bind, or neither to bind anonymously.");
        }

        if (destination.UseTls)
        {
            errors.Add($"{key}:UseTls is not supported for Ldap destinations yet; leave it out (the LDAP adapter speaks plain ldap://).");
        }
    }

    private static bool TryAddress(DestinationOptions destination, out Uri address) =>
        Uri.TryCreate(destination.Address, UriKind.Absolute, out address!);

    private static void CheckNoUserInfo(string key, Uri address, List<string> errors)
    {
        if (!string.IsNullOrEmpty(address.UserInfo))
        {
            errors.Add($"{key}:Address carries a user name or password; give them as {key}:Username (or BindDn) and {key}:Password, which are never shown.");
        }
    }

    private static bool IsMailAddress(string? value) =>
        !string.IsNullOrWhiteSpace(value) && System.Net.Mail.MailAddress.TryCreate(value, out var parsed) && parsed.Host.Length > 0;

    private static void ValidateTopics(RelayOptions options, List<string> errors)
    {
        if (options.Topics is null)
        {
            return;
        }

        foreach (var (name, subscribers) in options.Topics.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            var key = $"{Root}:Topics:{name}";
            CheckName(key, "topic", name, errors);
            if (subscribers is null || subscribers.Count == 0)
            {
                errors.Add($"{key} has no subscribers; list at least one destination.");
                continue;
            }

            for (var i = 0; i < subscribers.Count; i++)
            {
                var subscriber = subscribers[i];
                if (subscriber is null || options.Destinations is null || !options.Destinations.ContainsKey(subscriber))
                {
                    errors.Add($"{key}:{i} names the unknown destination '{Shorten(subscriber)}' (known: {Known(options.Destinations?.Keys)}).");
                }
            }
        }
    }

    private static void ValidateLimits(LimitOptions? limits, List<string> errors)
    {
        const string key = Root + ":Limits";
        if (limits is null)
        {
            return;
        }

        if (limits.MaxPayloadBytes is < 1 or > MaxPayloadBytesLimit)
        {
            errors.Add($"{key}:MaxPayloadBytes is {limits.MaxPayloadBytes}; it must be between 1 and {MaxPayloadBytesLimit} (64 MiB).");
        }

        if (limits.MaxIdLength < 1)
        {
            errors.Add($"{key}:MaxIdLength is {limits.MaxIdLength}; it must be at least 1.");
        }

        if (limits.MaxHeaders < 0)
        {
            errors.Add($"{key}:MaxHeaders is {limits.MaxHeaders}; it must not be negative.");
        }

        if (limits.MaxResponseBodyBytes < 0)
        {
            errors.Add($"{key}:MaxResponseBodyBytes is {limits.MaxResponseBodyBytes}; it must not be negative.");
        }

        if (limits.MaxConcurrentConnections < 1)
        {
            errors.Add($"{key}:MaxConcurrentConnections is {limits.MaxConcurrentConnections}; it must be at least 1.");
        }
    }

    private static void ValidateAudit(AuditOptions? audit, List<string> errors)
    {
        const string key = Root + ":Audit";
        if (audit is null)
        {
            return;
        }

        CheckPositive($"{key}:Retention", audit.Retention, errors);
        CheckPositive($"{key}:PurgeInterval", audit.PurgeInterval, errors);
    }

    private static void ValidateScheduler(SchedulerOptions? scheduler, List<string> errors)
    {
        const string key = Root + ":Scheduler";
        if (scheduler is null)
        {
            return;
        }

        if (scheduler.Shards is < 1 or > Messages.DeliveryKey.ShardSpace)
        {
            errors.Add($"{key}:Shards is {scheduler.Shards}; it must be between 1 and {Messages.DeliveryKey.ShardSpace}.");
        }

        CheckPositive($"{key}:PollInterval", scheduler.PollInterval, errors);
        CheckAtLeastOne($"{key}:BatchSize", scheduler.BatchSize, errors);
        CheckAtLeastOne($"{key}:MaxInFlight", scheduler.MaxInFlight, errors);
        CheckPositive($"{key}:RecoveryGrace", scheduler.RecoveryGrace, errors);
    }

    private static void CheckName(string key, string kind, string name, List<string> errors)
    {
        if (!NamePattern().IsMatch(name))
        {
            errors.Add($"{key}: the {kind} name '{Shorten(name)}' must be 1 to 100 letters, digits, '.', '_' or '-'.");
        }
    }

    private static void CheckTimeout(string key, TimeSpan value, List<string> errors)
    {
        if (value <= TimeSpan.Zero || value > MaxAttemptTimeout)
        {
            errors.Add($"{key} is {Format(value)}; it must be positive and at most {Format(MaxAttemptTimeout)}.");
        }
    }

    private static void CheckPositive(string key, TimeSpan value, List<string> errors)
    {
        if (value <= TimeSpan.Zero)
        {
            errors.Add($"{key} is {Format(value)}; it must be positive.");
        }
    }

    private static void CheckAtLeastOne(string key, int? value, List<string> errors)
    {
        if (value is < 1)
        {
            errors.Add($"{key} is {value}; it must be at least 1.");
        }
    }

    // An HTTP token (RFC 9110, 5.6.2): method and header names.
    private static bool IsToken(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return false;
        }

        foreach (var c in value)
        {
            var ok = c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9'
                || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal);
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    private static string Known(IEnumerable<string>? names)
    {
        var list = names?.Order(StringComparer.Ordinal).ToList() ?? [];
        return list.Count == 0 ? "none configured" : string.Join(", ", list);
    }

    private static string Format(TimeSpan value) => value.ToString("c", CultureInfo.InvariantCulture);

    private static string Shorten(string? value) =>
        value is null ? "" : value.Length <= 64 ? value : value[..64] + "…";
}
