using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Metadata;
using Orleans.Runtime;
using Orleans.Runtime.GrainDirectory;

namespace Relay.Grains;

/// <summary>
/// Orleans's grain-directory cache (where each grain was last found), without the grains that live for one message:
/// delivery and message grains. Every other grain (the schedulers, pacers, ordering keys, the control grain) is
/// cached as before, in Orleans's own LRU of <see cref="GrainDirectoryOptions.CacheSize"/> entries.
/// </summary>
/// <remarks>
/// Orleans adds an entry for every grain it places or finds, and takes none out when the grain leaves memory: with
/// one delivery grain per message the cache filled with the locations of deliveries long finished, one entry per
/// message until its cap (350 bytes each; kept alive long enough to be promoted, so every garbage collection
/// that came after had them to copy and their references to mark), and the Orleans Dashboard's gauge of its size walked
/// every entry once a second. A delivery is called again only hours later (a retry, a resubmit), when its location
/// has changed anyway; without an entry its caller asks the directory, as Orleans does on any cache miss, and a retry
/// is placed by its hash instead of going back to the silo that took it.
/// </remarks>
public sealed class OneShotGrainsUncached : IGrainDirectoryCache, IAsyncDisposable
{
    /// <summary>The grain classes whose locations are not kept: one activation per message.</summary>
    private static readonly Type[] OneShot = [typeof(Delivery.DeliveryGrain), typeof(Messages.MessageGrain)];

    private readonly IGrainDirectoryCache _others;
    private readonly IServiceProvider _services;
    private readonly ConcurrentDictionary<GrainType, bool> _uncached = new();
    private GrainClassMap? _classes;

    public OneShotGrainsUncached(IServiceProvider services, IOptions<GrainDirectoryOptions> options)
    {
        _services = services;
        var lru = new GrainDirectoryOptions
        {
            CachingStrategy = GrainDirectoryOptions.CachingStrategyType.LRU,
            CacheSize = options.Value.CacheSize,
            MaximumCacheTTL = options.Value.MaximumCacheTTL,
        };
        _others = GrainDirectoryCacheFactory.CreateGrainDirectoryCache(services, lru);
    }

    /// <summary>Whether locations of grains of <paramref name="type"/> are left out of the cache.</summary>
    private bool IsUncached(GrainType type) => _uncached.GetOrAdd(type, static (type, self) =>
    {
        // Resolved at first use: the cache is created with the grain directory, early in the silo's construction.
        var classes = self._classes ??= self._services.GetRequiredService<GrainClassMap>();
        return classes.TryGetGrainClass(type, out var grainClass) && Array.IndexOf(OneShot, grainClass) >= 0;
    }, this);

    public void AddOrUpdate(GrainAddress value, int version)
    {
        if (!IsUncached(value.GrainId.Type))
        {
            _others.AddOrUpdate(value, version);
        }
    }

    public bool LookUp(GrainId key, [NotNullWhen(true)] out GrainAddress? result, out int version)
    {
        if (IsUncached(key.Type))
        {
            result = null;
            version = 0;
            return false;
        }

        return _others.LookUp(key, out result, out version);
    }

    public bool Remove(GrainId key) => !IsUncached(key.Type) && _others.Remove(key);

    public bool Remove(GrainAddress key) => !IsUncached(key.GrainId.Type) && _others.Remove(key);

    public void Clear() => _others.Clear();

    public IEnumerable<(GrainAddress ActivationAddress, int Version)> KeyValues => _others.KeyValues;

    public ValueTask DisposeAsync() => _others switch
    {
        IAsyncDisposable disposable => disposable.DisposeAsync(),
        IDisposable disposable => Dispose(disposable),
        _ => ValueTask.CompletedTask,
    };

    private static ValueTask Dispose(IDisposable disposable)
    {
        disposable.Dispose();
        return ValueTask.CompletedTask;
    }
}
