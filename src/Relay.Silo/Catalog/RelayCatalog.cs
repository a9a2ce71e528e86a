using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Relay.Adapters;
using Relay.Core.Catalog;
using Relay.Core.Options;

namespace Relay.Silo.Catalog;

/// <summary>
/// This silo's view of the catalog: destinations, contracts and topics, from the database (<c>Relay:Catalog:Source</c>
/// <c>Catalog</c>, the default) or from configuration (<c>Configuration</c>).
/// <para>
/// How a change reaches the code: every reader asks <see cref="IOptions{RelayOptions}"/> (or the monitor) at its use, and
/// that answers the monitor's current value, which this catalog post-configures with its entries and invalidates when
/// the catalog's version moves (<see cref="IOptionsChangeTokenSource{RelayOptions}"/>). So no reader knows the catalog.
/// </para>
/// <para>
/// How a change reaches every silo: each silo polls the catalog's version in the database every
/// <c>Relay:Catalog:PollInterval</c> (500 ms), one indexed row, and reads the whole catalog when it moved; the silo that
/// made a change reads it at once. The database is the one source of truth the silos share already, so there is nothing
/// else to keep consistent, and a silo that missed a broadcast (starting, or cut off for a moment) cannot stay behind.
/// A silo reads the catalog (seeding it first, at its first start) before it joins: it never serves with a stale one.
/// </para>
/// </summary>
public sealed partial class RelayCatalog : ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    private readonly ICatalogStore _store;
    private readonly IConfiguration _configuration;
    private readonly IReadOnlyList<DestinationProtocol> _protocols;
    private readonly TimeProvider _time;
    private readonly ILogger<RelayCatalog> _logger;
    private readonly CatalogOptions _options;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _loading = new(1, 1);
    private CancellationTokenSource _changed = new();
    private CatalogState? _state;
    private Task _poll = Task.CompletedTask;
    private int _disposed;

    public RelayCatalog(ICatalogStore store, IConfiguration configuration, IEnumerable<DestinationProtocol> protocols, TimeProvider time, ILogger<RelayCatalog> logger)
    {
        _store = store;
        _configuration = configuration;
        _protocols = protocols.ToList();
        _time = time;
        _logger = logger;
        _options = configuration.GetSection($"{RelayOptions.SectionName}:Catalog").Get<CatalogOptions>() ?? new CatalogOptions();
    }

    public CatalogSource Source => _options.Source;

    public IReadOnlyList<DestinationProtocol> Protocols => _protocols;

    /// <summary>The catalog in force on this silo; null until it has been read (configuration's entries are in force until then).</summary>
    public CatalogState? Current => Volatile.Read(ref _state);

    public IChangeToken ChangeToken => new CancellationChangeToken(Volatile.Read(ref _changed).Token);

    public ICatalogStore Store => _store;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(RelayCatalog), ServiceLifecycleStage.ApplicationServices, StartAsync, StopAsync);

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        if (Source == CatalogSource.Configuration)
        {
            Log.FromConfiguration(_logger);
            return;
        }

        await SeedAsync(cancellationToken);
        await RefreshAsync(force: true, cancellationToken);
        _poll = Task.Run(PollAsync, CancellationToken.None);
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await _poll.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <summary>Reads the catalog when its version moved (or always, <paramref name="force"/>), and puts it in force.</summary>
    public async Task RefreshAsync(bool force, CancellationToken cancellationToken)
    {
        if (!force && Current is { } known && await _store.ReadVersionAsync(cancellationToken) == known.Version)
        {
            return;
        }

        await _loading.WaitAsync(cancellationToken);
        try
        {
            var snapshot = await _store.ReadAsync(cancellationToken);
            if (Current is { } current && current.Version == snapshot.Version)
            {
                return;
            }

            var binding = CatalogBinding.Bind(snapshot.Live.Select(e => (e.Kind, e.Name, e.Settings!)), _protocols);
            foreach (var problem in binding.Problems)
            {
                // Stored entries passed these checks when they were stored: only an older build's entry lands here.
                Log.StoredEntryProblem(_logger, problem);
            }

            Volatile.Write(ref _state, new CatalogState(snapshot, binding));
            var previous = Interlocked.Exchange(ref _changed, new CancellationTokenSource());
            await previous.CancelAsync();
            previous.Dispose();
            Log.InForce(_logger, snapshot.Version, snapshot.Live.Count());
        }
        finally
        {
            _loading.Release();
        }
    }

    private async Task PollAsync()
    {
        using var timer = new PeriodicTimer(_options.PollInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token))
            {
                try
                {
                    await RefreshAsync(force: false, _stopping.Token);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The catalog in force stays; the next tick asks again.
                    Log.PollFailed(_logger, ex);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// Configuration seeds the catalog: each entry of configuration whose name the catalog has never held (not even
    /// deleted) is stored, as from <c>configuration</c>. Silos starting together may race: the write checks, inside its
    /// transaction, that the names are still new, and the loser reads again.
    /// </summary>
    private async Task SeedAsync(CancellationToken cancellationToken)
    {
        var relay = _configuration.GetSection(RelayOptions.SectionName);
        var configured = new List<CatalogChange>();
        foreach (var kind in Enum.GetValues<CatalogKind>())
        {
            foreach (var child in relay.GetSection(kind.Section()).GetChildren())
            {
                if (CatalogJson.FromSection(child) is { } node)
                {
                    configured.Add(new CatalogChange(kind, child.Key, CatalogJson.Text(node)));
                }
            }
        }

        for (var round = 0; round < 5; round++)
        {
            var snapshot = await _store.ReadAsync(cancellationToken);
            var seeds = configured.Where(c => snapshot.Find(c.Kind, c.Name) is null).ToList();
            foreach (var known in configured.Where(c => snapshot.Find(c.Kind, c.Name) is { } e && e.Settings != c.Settings))
            {
                Log.ConfigurationIgnored(_logger, $"{RelayOptions.SectionName}:{known.Kind.Section()}:{known.Name}");
            }

            if (seeds.Count == 0)
            {
                return;
            }

            var result = await _store.WriteAsync(new CatalogWrite
            {
                Changes = seeds,
                By = "configuration",
                At = _time.GetUtcNow(),
                Check = stored => seeds.Any(s => stored.Find(s.Kind, s.Name) is not null)
                    ? CatalogVerdict.Refuse(new CatalogRefusal(409, "Seeded meanwhile by another silo."))
                    : new CatalogVerdict(null, seeds.Select(s => new CatalogAuditText("Seeded", null,
                        CatalogJson.Redact(s.Kind, System.Text.Json.Nodes.JsonNode.Parse(s.Settings!), _protocols) is { } r ? CatalogJson.Text(r) : null)).ToList()),
            }, cancellationToken);
            if (result.Succeeded)
            {
                Log.Seeded(_logger, seeds.Count, result.Version);
                return;
            }
        }
    }

    public void Dispose()
    {
        // The container disposes it once per registration that hands it out (it is also a lifecycle participant).
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _stopping.Cancel();
        _stopping.Dispose();
        _changed.Dispose();
        _loading.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1801, Level = LogLevel.Information, Message = "Catalog version {Version} in force: {Entries} entries")]
        public static partial void InForce(ILogger logger, long version, int entries);

        [LoggerMessage(EventId = 1802, Level = LogLevel.Information, Message = "Catalog seeded from configuration: {Entries} entries, version {Version}")]
        public static partial void Seeded(ILogger logger, int entries, long version);

        [LoggerMessage(EventId = 1803, Level = LogLevel.Warning, Message = "{Key} in configuration differs from the catalog, whose entry is in force (Relay:Catalog:Source is Catalog): change it through the API, or set Relay:Catalog:Source=Configuration")]
        public static partial void ConfigurationIgnored(ILogger logger, string key);

        [LoggerMessage(EventId = 1804, Level = LogLevel.Warning, Message = "Could not read the catalog's version; the catalog in force stays")]
        public static partial void PollFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 1805, Level = LogLevel.Warning, Message = "A stored catalog entry has a problem: {Problem}")]
        public static partial void StoredEntryProblem(ILogger logger, string problem);

        [LoggerMessage(EventId = 1806, Level = LogLevel.Information, Message = "Destinations, contracts and topics come from configuration (Relay:Catalog:Source=Configuration): read-only at runtime")]
        public static partial void FromConfiguration(ILogger logger);
    }
}

/// <summary>The catalog as read at one version, and bound.</summary>
public sealed record CatalogState(CatalogSnapshot Snapshot, CatalogBinding Binding)
{
    public long Version => Snapshot.Version;
}

/// <summary>Puts the catalog's entries in Relay's options, in place of configuration's, once the catalog is read.</summary>
internal sealed class CatalogOptionsSetup(RelayCatalog catalog) : IPostConfigureOptions<RelayOptions>, IOptionsChangeTokenSource<RelayOptions>
{
    public string Name => Options.DefaultName;

    public void PostConfigure(string? name, RelayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (catalog.Source == CatalogSource.Catalog && catalog.Current is { } state)
        {
            options.Destinations = state.Binding.Entries.Destinations;
            options.Contracts = state.Binding.Entries.Contracts;
            options.Topics = state.Binding.Entries.Topics;
        }
    }

    public IChangeToken GetChangeToken() => catalog.ChangeToken;
}

/// <summary>
/// <see cref="IOptions{RelayOptions}"/> answering the monitor's current value: the catalog changes destinations,
/// contracts and topics at runtime, and every reader that asks <c>.Value</c> at its use sees the current ones without
/// moving to <see cref="IOptionsMonitor{RelayOptions}"/>. (The rest of the options never change at runtime.)
/// </summary>
internal sealed class CurrentRelayOptions(IOptionsMonitor<RelayOptions> monitor) : IOptions<RelayOptions>
{
    public RelayOptions Value => monitor.CurrentValue;
}
