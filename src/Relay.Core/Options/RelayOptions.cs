using Relay.Core.Topics;

namespace Relay.Core.Options;

/// <summary>The section <c>Relay</c> of the configuration (docs/API.md, "Configuration").</summary>
public sealed class RelayOptions
{
    public const string SectionName = "Relay";

    public StorageOptions Storage { get; set; } = new();
    public RelayClusterOptions Cluster { get; set; } = new();
    public Dictionary<string, RetryContractOptions> Contracts { get; set; } = new(StringComparer.Ordinal);
    public Dictionary<string, DestinationOptions> Destinations { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Each topic's subscriptions: a plain list of destination names, or <c>{"Subscriptions": [...]}</c> with filters.</summary>
    public Dictionary<string, TopicOptions> Topics { get; set; } = new(StringComparer.Ordinal);
    public LimitOptions Limits { get; set; } = new();
    public AuditOptions Audit { get; set; } = new();
    public RetentionOptions Retention { get; set; } = new();
    public OrderingOptions Ordering { get; set; } = new();
    public SchedulerOptions Scheduler { get; set; } = new();
    public OperationOptions Operations { get; set; } = new();
    public CatalogOptions Catalog { get; set; } = new();

    /// <summary>The contract used by a destination that names none.</summary>
    public const string DefaultContractName = "default";
}

public sealed class StorageOptions
{
    /// <summary><c>Sqlite</c> (embedded default, one silo) or <c>AdoNet</c> (the cluster).</summary>
    public string Provider { get; set; } = "Sqlite";
    /// <summary>Folder of the SQLite database file.</summary>
    public string DataPath { get; set; } = "./data";
    /// <summary>ADO.NET invariant name for <c>AdoNet</c>, e.g. <c>Npgsql</c>.</summary>
    public string Invariant { get; set; } = "Npgsql";
    /// <summary>Connection string for <c>AdoNet</c>. A secret: never logged.</summary>
    public string? ConnectionString { get; set; }
    /// <summary>Apply the schema scripts at start-up.</summary>
    public bool Migrate { get; set; }
    /// <summary>Most database connections one silo opens (cluster only); mind PostgreSQL's max_connections.</summary>
    public int MaxPoolSize { get; set; } = 50;
    /// <summary>
    /// SQLite <c>synchronous</c> mode. <c>Full</c> (default) makes every commit survive a power loss;
    /// <c>Normal</c> survives a process crash but may lose the last commits on power loss.
    /// </summary>
    public string SqliteSynchronous { get; set; } = "Full";
}

public sealed class RelayClusterOptions
{
    public string ClusterId { get; set; } = "relay";
    public string ServiceId { get; set; } = "relay";
    public int SiloPort { get; set; } = 11111;
    public int GatewayPort { get; set; } = 30000;
    /// <summary>The address other silos and clients reach this silo at (cluster only). Loopback suits one machine.</summary>
    public string AdvertisedIP { get; set; } = "127.0.0.1";
}

/// <summary>A named retry policy: how many attempts, how far apart.</summary>
public sealed class RetryContractOptions
{
    /// <summary>Every attempt counts, the first included.</summary>
    public int MaxAttempts { get; set; } = 5;
    public TimeSpan Delay { get; set; } = TimeSpan.FromSeconds(5);
    public BackoffKind Backoff { get; set; } = BackoffKind.Fixed;
    /// <summary>Upper bound of one delay (before jitter is applied, and after: jitter never exceeds it).</summary>
    public TimeSpan? MaxDelay { get; set; }
    /// <summary>Spreads each delay by ± this fraction (0 to 1).</summary>
    public double Jitter { get; set; }
    /// <summary>
    /// Tries repeated at once after a retryable failure, within the same attempt (0 to 10, default 0), before the
    /// delayed schedule takes over: an attempt is up to 1 + ImmediateRetries tries, each audited, counted as one
    /// attempt against <see cref="MaxAttempts"/>, as NServiceBus counts its immediate retries apart from its delayed ones.
    /// </summary>
    public int ImmediateRetries { get; set; }
}

public enum BackoffKind
{
    /// <summary>Delay, Delay, Delay, ...</summary>
    Fixed,
    /// <summary>Delay × n: 10 s, 20 s, 30 s, ... as NServiceBus's delayed retries.</summary>
    Linear,
    /// <summary>Delay × 2^(n-1): 1 s, 2 s, 4 s, ...</summary>
    Exponential,
}

public enum NotifyOn
{
    /// <summary>Notify when a delivery ends after having been in retry.</summary>
    AfterRetry,
    /// <summary>Notify on every final status, even one reached at the first attempt.</summary>
    Always,
}

/// <summary>
/// What every destination has, whatever its protocol: where it is, its retry contract, its bounds and pacing, its
/// headers and credentials. A protocol's own settings (<c>Method</c>, <c>SoapVersion</c>, <c>FileName</c>, <c>From</c>,
/// <c>BindDn</c>...) are in its adapter's subclass of this one (Relay.Adapters, one folder per protocol), bound from the
/// same section (<c>Relay:Destinations:{name}</c>) and checked by that adapter's validator (<see cref="IDestinationProtocol"/>).
/// </summary>
public class DestinationOptions
{
    /// <summary>The protocol adapter: <c>Http</c> (default), <c>Soap</c>, <c>Ftp</c>, <c>Smtp</c>, <c>Ldap</c> or <c>Ebms2</c>.</summary>
    public string Protocol { get; set; } = "Http";
    public string Address { get; set; } = "";
    /// <summary>The retry contract; default <c>default</c> (5 attempts, 5 s apart) when not configured.</summary>
    public string? Contract { get; set; }
    /// <summary>Bound of the first attempt, made within the sender's request.</summary>
    public TimeSpan SyncTimeout { get; set; } = TimeSpan.FromSeconds(2);
    /// <summary>Bound of each later attempt.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
    /// <summary>The destination that gets the final notification of this destination's deliveries.</summary>
    public string? Notify { get; set; }
    public NotifyOn NotifyOn { get; set; } = NotifyOn.AfterRetry;
    /// <summary>
    /// False holds every delivery to it as a pause does (stored, answered Pending, retries waiting and not counted),
    /// until it is enabled again. A catalog edit (docs/OPERATIONS.md, "The catalog") switches it without a restart.
    /// </summary>
    public bool Enabled { get; set; } = true;
    public int? MaxConcurrency { get; set; }
    public int? MaxPerSecond { get; set; }
    public int? FailureThreshold { get; set; }
    public TimeSpan? BreakDuration { get; set; }
    /// <summary>Headers sent on every request to this destination (e.g. an API key). Values are secrets: never logged.</summary>
    [Secret]
    public Dictionary<string, string> Headers { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    // Credentials: SOAP's WS-Security UsernameToken, FTP's and SMTP's login, LDAP's bind (with its BindDn).
    public string? Username { get; set; }
    /// <summary>A secret: never logged.</summary>
    [Secret]
    public string? Password { get; set; }

    /// <summary>
    /// Whether the protocol's own settings give the destination an identity beyond <see cref="Username"/> and
    /// <see cref="Password"/> (LDAP's bind DN): <see cref="Messages.DestinationHeaders.HasCredentials"/> asks. Not a
    /// setting (not public), so neither the binder nor the unknown-key check sees it.
    /// </summary>
    protected internal virtual bool HasProtocolCredentials => false;
}

public sealed class LimitOptions
{
    /// <summary>Largest payload accepted, in bytes (default 1 MiB).</summary>
    public int MaxPayloadBytes { get; set; } = 1024 * 1024;
    /// <summary>Longest message id accepted.</summary>
    public int MaxIdLength { get; set; } = 200;
    /// <summary>Most headers a message may carry.</summary>
    public int MaxHeaders { get; set; } = 64;
    /// <summary>Part of a destination's response body kept in the answer and the audit.</summary>
    public int MaxResponseBodyBytes { get; set; } = 64 * 1024;
    /// <summary>
    /// Most client connections a silo holds open at once; a connection beyond it is closed as it arrives. An overload
    /// is then refused at the door instead of exhausting the process's file descriptors (each connection is one).
    /// </summary>
    public int MaxConcurrentConnections { get; set; } = 4096;
}

public sealed class AuditOptions
{
    /// <summary>
    /// How long attempt and operator records of a finished delivery (Delivered or Discarded) are kept; those of a delivery
    /// still Pending, InRetry or DeadLettered are kept as long as it is.
    /// </summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(30);
    /// <summary>How often the purge runs (audit and <see cref="RetentionOptions"/> alike).</summary>
    public TimeSpan PurgeInterval { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>Bulk operations (resubmit or discard every delivery a filter matches), run in the background.</summary>
public sealed class OperationOptions
{
    /// <summary>Deliveries one step of an operation reads and acts on; progress is stored after each step.</summary>
    public int PageSize { get; set; } = 200;
    /// <summary>
    /// Most deliveries an operation acts on per second, so a resubmit of a large backlog does not flood the
    /// schedulers and the destination at once; 0 (the default): as fast as the delivery grains answer.
    /// </summary>
    public int MaxPerSecond { get; set; }
}

/// <summary><c>Relay:Catalog</c>: where destinations, contracts and topics come from (docs/OPERATIONS.md, "The catalog").</summary>
public sealed class CatalogOptions
{
    /// <summary>
    /// <c>Catalog</c> (default): the catalog in the database, managed at runtime through the API and the portal;
    /// configuration's entries seed it, each the first time the catalog meets its name. <c>Configuration</c>: the
    /// configuration is authoritative, as before the catalog: its entries are shown read-only and the catalog's
    /// changes are refused.
    /// </summary>
    public CatalogSource Source { get; set; } = CatalogSource.Catalog;

    /// <summary>How often each silo asks the database for the catalog's version: the bound on how late a change made on another silo is in force.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);
}

public enum CatalogSource
{
    /// <summary>The catalog in the database; configuration seeds it.</summary>
    Catalog,
    /// <summary>Configuration only, read-only at runtime.</summary>
    Configuration,
}

/// <summary><c>Relay:Retention</c>: how long finished messages are kept whole.</summary>
public sealed class RetentionOptions
{
    /// <summary>
    /// How long after its last change a message whose every delivery is Delivered or Discarded (and owes nothing more)
    /// is kept: then its deliveries' states, payloads, rows and audit are removed, and its id is free again.
    /// Dead-lettered deliveries are never removed by age.
    /// </summary>
    public TimeSpan Delivered { get; set; } = TimeSpan.FromDays(7);
}

/// <summary><c>Relay:Ordering</c>: the queues of ordering keys.</summary>
public sealed class OrderingOptions
{
    /// <summary>
    /// The most messages one ordering key of one sender to one destination holds waiting (the head included); a send
    /// beyond it is refused with 429, nothing stored.
    /// </summary>
    public int MaxDepth { get; set; } = 10_000;
}

public sealed class SchedulerOptions
{
    /// <summary>Retry scheduler grains; each owns a slice of the deliveries and one Orleans reminder.</summary>
    public int Shards { get; set; } = 8;
    /// <summary>How often an active scheduler looks for due deliveries: the bound on a retry's lateness.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(250);
    /// <summary>Due deliveries fetched per poll.</summary>
    public int BatchSize { get; set; } = 256;
    /// <summary>Attempts one scheduler runs at once.</summary>
    public int MaxInFlight { get; set; } = 64;
    /// <summary>
    /// When an accepted delivery's first attempt has not recorded its outcome after this long
    /// (the silo died in the middle of it), the scheduler attempts it again.
    /// </summary>
    public TimeSpan RecoveryGrace { get; set; } = TimeSpan.FromSeconds(10);
}
