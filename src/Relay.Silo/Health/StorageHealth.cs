using Microsoft.Extensions.Options;
using Relay.Core.Storage;

namespace Relay.Silo.Health;

/// <summary>
/// Whether the storage answers reads (asked at each check: one <c>SELECT</c>) and accepts writes (one small commit at
/// most once per <see cref="HealthOptions.WriteCheckInterval"/>, shared by every check meanwhile), for <c>/health</c>.
/// </summary>
/// <remarks>
/// Why a write of its own, cached, and not the writer's recent commits: a silo that is idle commits nothing, and one
/// whose writes fail for a delivery's data (a refusal) still has a database that accepts writes; an own row answers
/// exactly "does a commit go through now", at a bounded cost (docs/OPERATIONS.md, "Health").
/// </remarks>
public sealed class StorageHealth(IRelayStore store, TimeProvider time, IOptions<HealthOptions> options)
{
    private static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(5);

    private readonly TimeSpan _interval = options.Value.WriteCheckInterval;
    private readonly Lock _gate = new();
    private Task<WriteVerdict>? _write;
    private long _writeStarted;

    /// <summary>The verdict of a write check and when it was made.</summary>
    public sealed record WriteVerdict(bool Accepted, DateTimeOffset CheckedAt);

    public async Task<bool> CanReadAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(CheckTimeout);
            return await store.PingAsync(timeout.Token);
        }
        catch (Exception)
        {
            return false;
        }
    }

    /// <summary>The last write check's verdict while it is younger than the interval, else a new check's (one at a time).</summary>
    public Task<WriteVerdict> CanWriteAsync(CancellationToken cancellationToken)
    {
        Task<WriteVerdict> write;
        lock (_gate)
        {
            if (_write is null || (_write.IsCompleted && time.GetElapsedTime(_writeStarted) >= _interval))
            {
                _writeStarted = time.GetTimestamp();
                _write = CheckWriteAsync();
            }

            write = _write;
        }

        return write.WaitAsync(cancellationToken);
    }

    // Not under the caller's token: the check is shared, and a caller that leaves must not fail it for the others.
    private async Task<WriteVerdict> CheckWriteAsync()
    {
        bool accepted;
        try
        {
            using var timeout = new CancellationTokenSource(CheckTimeout, time);
            accepted = await store.CheckWriteAsync(timeout.Token);
        }
        catch (Exception)
        {
            accepted = false;
        }

        return new WriteVerdict(accepted, time.GetUtcNow());
    }
}
