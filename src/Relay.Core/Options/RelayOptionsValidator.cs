using System.Globalization;
using System.Text.RegularExpressions;
using Relay.Core.Topics;

namespace Relay.Core.Options;

/// <summary>
/// Checks the section <c>Relay</c> at start-up. Each problem is one line that names the configuration
/// key in colon form (as an operator would write it with <c>--Relay:...=</c>), so a bad configuration
/// stops the silo with a message that says what to change, instead of failing at the first message.
/// </summary>
public static partial class RelayOptionsValidator
{
    /// <summary>Upper bound of <see cref="DestinationOptions.SyncTimeout"/> and <see cref="DestinationOptions.Timeout"/>.</summary>
    public static readonly TimeSpan MaxAttemptTimeout = TimeSpan.FromMinutes(5);

    /// <summary>Upper bound of <see cref="LimitOptions.MaxPayloadBytes"/>: a payload is held in memory and in one row.</summary>
    public const int MaxPayloadBytesLimit = 64 * 1024 * 1024;

    /// <summary>Upper bound of <see cref="RetryContractOptions.ImmediateRetries"/>: tries at once hammer a destination that is down.</summary>
    public const int MaxImmediateRetries = 10;

    private const string Root = RelayOptions.SectionName;

    private static readonly string[] StorageProviders = ["Sqlite", "AdoNet"];
    private static readonly string[] SqliteSynchronousModes = ["Off", "Normal", "Full", "Extra"];

    // Names end up in grain keys joined with '/', in metric labels and in URLs: keep them to a safe alphabet.
    [GeneratedRegex("^[A-Za-z0-9._-]{1,100}$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    /// <summary>Every problem of <paramref name="options"/>, one line each; empty when the configuration is usable.</summary>
    /// <param name="protocols">
    /// The protocols whose adapters are registered (<see cref="IDestinationProtocol"/>): the values a destination's
    /// <c>Protocol</c> may take, compared case-insensitively, each with the rules of its own settings.
    /// </param>
    public static IReadOnlyList<string> Validate(RelayOptions options, IReadOnlyCollection<IDestinationProtocol> protocols)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(protocols);
        var errors = new List<string>();
        ValidateStorage(options.Storage, errors);
        ValidateCluster(options.Cluster, errors);
        ValidateContracts(options.Contracts, errors);
        ValidateDestinations(options, protocols, errors);
        ValidateTopics(options, errors);
        ValidateLimits(options.Limits, errors);
        ValidateAudit(options.Audit, errors);
        ValidateRetention(options.Retention, options.Ordering, errors);
        ValidateScheduler(options.Scheduler, errors);
        ValidateOperations(options.Operations, errors);
        ValidateCatalog(options.Catalog, errors);
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

            if (contract.ImmediateRetries is < 0 or > MaxImmediateRetries)
            {
                errors.Add($"{key}:ImmediateRetries is {contract.ImmediateRetries}; it must be between 0 and {MaxImmediateRetries}.");
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

    private static void ValidateDestinations(RelayOptions options, IReadOnlyCollection<IDestinationProtocol> protocols, List<string> errors)
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

            ValidateDestination(options, key, destination, protocols, errors);
        }
    }

    private static void ValidateDestination(RelayOptions options, string key, DestinationOptions destination,
        IReadOnlyCollection<IDestinationProtocol> protocols, List<string> errors)
    {
        var protocol = protocols.FirstOrDefault(p => string.Equals(p.Name, destination.Protocol, StringComparison.OrdinalIgnoreCase));
        if (protocol is null)
        {
            errors.Add($"{key}:Protocol is '{Shorten(destination.Protocol)}'; it must be one of {string.Join(", ", protocols.Select(p => p.Name))}.");
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
        else if (protocol is not null && !protocol.Schemes.Contains(address.Scheme, StringComparer.OrdinalIgnoreCase))
        {
            errors.Add($"{key}:Address has the scheme '{Shorten(address.Scheme)}', which the {protocol.Name} protocol cannot call (allowed: {string.Join(", ", protocol.Schemes)}).");
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
                if (!OptionRules.IsToken(header))
                {
                    errors.Add($"{key}:Headers:{header} is not a valid HTTP header name.");
                }
                else if (value is null || value.Any(c => char.IsControl(c) && c != '\t'))
                {
                    errors.Add($"{key}:Headers:{header} has a value that is not single-line text.");
                }
            }
        }

        // The protocol's own settings, by its adapter's rules; an unknown protocol is one error, not many.
        protocol?.Validate(key, destination, errors);
    }

    private static void ValidateTopics(RelayOptions options, List<string> errors)
    {
        if (options.Topics is null)
        {
            return;
        }

        foreach (var (name, topic) in options.Topics.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            var key = $"{Root}:Topics:{name}";
            CheckName(key, "topic", name, errors);
            if (topic?.Subscriptions is null || topic.Subscriptions.Count == 0)
            {
                errors.Add($"{key} has no subscribers; list at least one destination.");
                continue;
            }

            for (var i = 0; i < topic.Subscriptions.Count; i++)
            {
                var subscription = topic.Subscriptions[i];
                var subscriber = subscription?.Destination;
                if (string.IsNullOrEmpty(subscriber) || options.Destinations is null || !options.Destinations.ContainsKey(subscriber))
                {
                    errors.Add(string.IsNullOrEmpty(subscriber) && !topic.IsPlainList()
                        ? $"{key}:{topic.DestinationKey(i)} is missing; a subscription names a destination."
                        : $"{key}:{topic.DestinationKey(i)} names the unknown destination '{Shorten(subscriber)}' (known: {Known(options.Destinations?.Keys)}).");
                }

                // A filter is compiled here, once, so that a malformed one stops the silo with its place in the text.
                if (!string.IsNullOrWhiteSpace(subscription?.Filter)
                    && !SubscriptionFilter.TryCompile(subscription.Filter, out _, out var filterError))
                {
                    errors.Add($"{key}:{TopicOptions.FilterKey(i)} is not a valid filter at column {filterError!.Column}: {filterError.Message}. "
                        + $"The filter: {(subscription.Filter.Length <= 200 ? subscription.Filter : subscription.Filter[..200] + "…")}");
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

    private static void ValidateOperations(OperationOptions? operations, List<string> errors)
    {
        const string key = Root + ":Operations";
        if (operations is null)
        {
            return;
        }

        if (operations.PageSize is < 1 or > 5000)
        {
            errors.Add($"{key}:PageSize is {operations.PageSize}; it must be between 1 and 5000.");
        }

        if (operations.MaxPerSecond < 0)
        {
            errors.Add($"{key}:MaxPerSecond is {operations.MaxPerSecond}; it must be 0 (no limit) or more.");
        }
    }

    private static void ValidateCatalog(CatalogOptions? catalog, List<string> errors)
    {
        if (catalog is null)
        {
            return;
        }

        if (!Enum.IsDefined(catalog.Source))
        {
            errors.Add($"{Root}:Catalog:Source is {(int)catalog.Source}; it must be Catalog or Configuration.");
        }

        if (catalog.PollInterval <= TimeSpan.Zero || catalog.PollInterval > TimeSpan.FromSeconds(2))
        {
            errors.Add($"{Root}:Catalog:PollInterval is {Format(catalog.PollInterval)}; it must be positive and at most 00:00:02 (a change is in force on every silo within it).");
        }
    }

    private static void ValidateRetention(RetentionOptions? retention, OrderingOptions? ordering, List<string> errors)
    {
        if (retention is not null)
        {
            CheckPositive($"{Root}:Retention:Delivered", retention.Delivered, errors);
        }

        if (ordering is not null && ordering.MaxDepth < 1)
        {
            errors.Add($"{Root}:Ordering:MaxDepth is {ordering.MaxDepth}; it must be at least 1.");
        }
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

    private static string Known(IEnumerable<string>? names)
    {
        var list = names?.Order(StringComparer.Ordinal).ToList() ?? [];
        return list.Count == 0 ? "none configured" : string.Join(", ", list);
    }

    private static string Format(TimeSpan value) => value.ToString("c", CultureInfo.InvariantCulture);

    private static string Shorten(string? value) => OptionRules.Shorten(value);
}
