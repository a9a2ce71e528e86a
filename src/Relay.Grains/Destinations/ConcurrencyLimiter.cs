using Orleans.Runtime;
using Relay.Core.Options;

namespace Relay.Grains.Destinations;

/// <summary>
/// A destination's <c>MaxConcurrency</c> (attempts in flight) across the cluster: each active silo allows its
/// share, <c>MaxConcurrency / active silos</c> (at least one). Deliveries are placed evenly over the silos, so
/// the shares add up to the limit and a backlog runs at it. Destinations without a limit never come here.
/// </summary>
internal sealed class ConcurrencyLimiter(ISiloStatusOracle membership, TimeProvider time)
{
    private readonly Dictionary<string, Gate> _gates = new(StringComparer.Ordinal);

    /// <summary>A lease to dispose when the attempt is over; null when none was free within <paramref name="maxWait"/>.</summary>
    public async Task<IDisposable?> EnterAsync(string destination, DestinationOptions options, TimeSpan maxWait)
    {
        if (options.MaxConcurrency is not { } max)
        {
            return NoLease.Instance;
        }

        Gate gate;
        lock (_gates)
        {
            if (!_gates.TryGetValue(destination, out gate!))
            {
                gate = new Gate();
                _gates.Add(destination, gate);
            }
        }

        var silos = Math.Max(1, membership.GetApproximateSiloStatuses(onlyActive: true).Count);
        var share = Math.Max(1, max / silos);
        return await gate.EnterAsync(share, maxWait, time).ConfigureAwait(false);
    }

    private sealed class Gate
    {
        private readonly Queue<TaskCompletionSource<IDisposable?>> _waiters = new();
        private int _inFlight;
        private int _share = 1;

        public async Task<IDisposable?> EnterAsync(int share, TimeSpan maxWait, TimeProvider time)
        {
            TaskCompletionSource<IDisposable?> waiter;
            lock (_waiters)
            {
                _share = share;
                if (_inFlight < _share)
                {
                    _inFlight++;
                    return new Lease(this);
                }

                waiter = new TaskCompletionSource<IDisposable?>(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiters.Enqueue(waiter);
            }

            using var timeout = new CancellationTokenSource(maxWait, time);
            await using var registration = timeout.Token.Register(() => waiter.TrySetResult(null));
            return await waiter.Task.ConfigureAwait(false);
        }

        private void Release()
        {
            lock (_waiters)
            {
                _inFlight--;
                while (_inFlight < _share && _waiters.TryDequeue(out var next))
                {
                    _inFlight++;
                    if (!next.TrySetResult(new Lease(this)))
                    {
                        // It gave up meanwhile.
                        _inFlight--;
                    }
                }
            }
        }

        private sealed class Lease(Gate gate) : IDisposable
        {
            private int _disposed;

            public void Dispose()
            {
                if (Interlocked.Exchange(ref _disposed, 1) == 0)
                {
                    gate.Release();
                }
            }
        }
    }

    private sealed class NoLease : IDisposable
    {
        public static readonly NoLease Instance = new();

        public void Dispose()
        {
        }
    }
}
