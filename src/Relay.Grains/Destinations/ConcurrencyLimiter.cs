using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Relay.Core.Options;

namespace Relay.Grains.Destinations;

/// <summary>
/// This silo's side of a destination's <c>MaxConcurrency</c> (attempts in flight across the cluster). The silo holds
/// a batch of permits leased from the destination's <see cref="IDestinationConcurrencyGrain"/> and starts an attempt
/// with a free one at no cost; it calls the grain only when its attempts want more than it holds, when it holds more
/// than its fair share (to give them back as attempts end), and every <see cref="RenewEvery"/> to renew its lease.
/// Without a renewed lease it starts nothing (<see cref="PermitLedger.LeaseTerm"/>): the permits of a silo cut off from
/// the grain are not used while the grain gives them to another. Destinations without a limit never come here.
/// </summary>
internal sealed partial class ConcurrencyLimiter : IDisposable
{
    /// <summary>How often a silo holding permits renews its lease, and learns its fair share.</summary>
    internal static readonly TimeSpan RenewEvery = TimeSpan.FromMilliseconds(500);

    /// <summary>How soon a silo whose attempts wait for permits asks again.</summary>
    internal static readonly TimeSpan AskAgainAfter = TimeSpan.FromMilliseconds(50);

    private readonly Func<string, IDestinationConcurrencyGrain> _grainOf;
    private readonly SiloAddress _silo;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Dictionary<string, Pool> _pools = new(StringComparer.Ordinal);
    // Cancelled when the silo stops (the container disposes this singleton).
    private readonly CancellationTokenSource _stopping = new();
    private readonly ITimer _renewal;

    public ConcurrencyLimiter(IGrainFactory grains, ILocalSiloDetails silo, TimeProvider time, ILogger<ConcurrencyLimiter> logger)
        : this(destination => grains.GetGrain<IDestinationConcurrencyGrain>(destination), silo.SiloAddress, time, logger)
    {
    }

    internal ConcurrencyLimiter(Func<string, IDestinationConcurrencyGrain> grainOf, SiloAddress silo, TimeProvider time, ILogger? logger = null)
    {
        _grainOf = grainOf;
        _silo = silo;
        _time = time;
        _logger = logger ?? NullLogger.Instance;
        _renewal = time.CreateTimer(_ => Renew(), null, RenewEvery, RenewEvery);
    }

    /// <summary>The answer without a <c>MaxConcurrency</c>: one task for all of them.</summary>
    internal static readonly Task<IDisposable?> NoLimit = Task.FromResult<IDisposable?>(NoLease.Instance);

    /// <summary>A lease to dispose when the attempt is over; null when none was free within <paramref name="maxWait"/>.</summary>
    public Task<IDisposable?> EnterAsync(string destination, DestinationOptions options, TimeSpan maxWait)
    {
        if (options.MaxConcurrency is null)
        {
            return NoLimit;
        }

        Pool pool;
        lock (_pools)
        {
            if (!_pools.TryGetValue(destination, out pool!))
            {
                pool = new Pool(this, _grainOf(destination), destination);
                _pools.Add(destination, pool);
            }
        }

        return pool.EnterAsync(maxWait);
    }

    /// <summary>Attempts in flight on this silo, and permits held, per destination (for tests and diagnostics).</summary>
    internal (int InUse, int Held) Usage(string destination)
    {
        lock (_pools)
        {
            return _pools.TryGetValue(destination, out var pool) ? pool.Usage : (0, 0);
        }
    }

    public void Dispose()
    {
        _renewal.Dispose();
        _stopping.Cancel();
    }

    private void Renew()
    {
        Pool[] pools;
        lock (_pools)
        {
            pools = [.. _pools.Values];
        }

        foreach (var pool in pools)
        {
            pool.Renew();
        }
    }

    /// <summary>The permits this silo holds for one destination, and the attempts waiting for one.</summary>
    private sealed class Pool(ConcurrencyLimiter limiter, IDestinationConcurrencyGrain grain, string destination)
    {
        private readonly Queue<TaskCompletionSource<IDisposable?>> _waiters = new();
        private TimeProvider Time => limiter._time;
        private int _held;
        private int _inUse;
        private int _allowance;
        private long _leaseUntil;
        private bool _exchanging;
        private bool _again;

        public (int InUse, int Held) Usage
        {
            get
            {
                lock (_waiters)
                {
                    return (_inUse, _held);
                }
            }
        }

        public async Task<IDisposable?> EnterAsync(TimeSpan maxWait)
        {
            TaskCompletionSource<IDisposable?> waiter;
            lock (_waiters)
            {
                if (!AnyWaiting() && CanStart())
                {
                    _inUse++;
                    return new Lease(this);
                }

                waiter = new TaskCompletionSource<IDisposable?>(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiters.Enqueue(waiter);
                Exchange();
            }

            using var timeout = new CancellationTokenSource(maxWait, Time);
            await using var registration = timeout.Token.Register(() => waiter.TrySetResult(null));
            return await waiter.Task.ConfigureAwait(false);
        }

        public void Renew()
        {
            lock (_waiters)
            {
                if (_held > 0 || AnyWaiting())
                {
                    Exchange();
                }
            }
        }

        private bool CanStart() => _inUse < Math.Min(_held, _allowance) && Time.GetTimestamp() < _leaseUntil;

        /// <summary>Whether an attempt is waiting; drops those at the head that gave up, so the head is one that waits.</summary>
        private bool AnyWaiting()
        {
            while (_waiters.TryPeek(out var head) && head.Task.IsCompleted)
            {
                _waiters.Dequeue();
            }

            return _waiters.Count > 0;
        }

        /// <summary>Attempts waiting that have not given up.</summary>
        private int Waiting() => AnyWaiting() ? _waiters.Count(w => !w.Task.IsCompleted) : 0;

        private void Serve()
        {
            while (CanStart() && _waiters.TryDequeue(out var waiter))
            {
                _inUse++;
                if (!waiter.TrySetResult(new Lease(this)))
                {
                    // It gave up meanwhile.
                    _inUse--;
                }
            }
        }

        private void Release()
        {
            lock (_waiters)
            {
                _inUse--;
                Serve();
                if (_held > Math.Max(_inUse, _allowance))
                {
                    // Above its share, and one is free now: give it back to the silos waiting for it.
                    Exchange();
                }
            }
        }

        /// <summary>Starts an exchange with the grain, or asks the one under way to go round once more. Under the lock.</summary>
        private void Exchange()
        {
            if (_exchanging)
            {
                _again = true;
                return;
            }

            _exchanging = true;
            _ = Task.Run(ExchangeAsync);
        }

        private async Task ExchangeAsync()
        {
            while (true)
            {
                PermitRequest request;
                long sent;
                lock (_waiters)
                {
                    _again = false;
                    sent = Time.GetTimestamp();
                    // Give back what is free above the share; all that is free when nothing wants it (an idle silo
                    // stops renewing), or without a lease (the grain may have given it to another by now).
                    var demand = _inUse + Waiting();
                    _held = sent < _leaseUntil && demand > 0 ? Math.Max(_inUse, Math.Min(_held, _allowance)) : _inUse;
                    request = new PermitRequest(limiter._silo, _held, demand, Math.Max(0, demand - _held));
                }

                PermitAnswer? answer = null;
                try
                {
                    answer = await grain.Exchange(request).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    // The grain is moving (a silo left) or unreachable: keep what is held until the lease runs out.
                    Log.ExchangeFailed(limiter._logger, ex, destination);
                }

                TimeSpan? pause;
                lock (_waiters)
                {
                    if (answer is not null)
                    {
                        _held += answer.Granted;
                        _allowance = answer.Allowance;
                        _leaseUntil = sent + (long)(answer.Lease.TotalSeconds * Time.TimestampFrequency);
                        Serve();
                    }

                    pause = _again || (answer is not null && _held > Math.Max(_inUse, _allowance))
                        ? TimeSpan.Zero
                        : AnyWaiting() ? AskAgainAfter : null;
                    if (pause is null)
                    {
                        _exchanging = false;
                        return;
                    }
                }

                if (pause > TimeSpan.Zero)
                {
                    try
                    {
                        await Task.Delay(pause.Value, Time, limiter._stopping.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        lock (_waiters)
                        {
                            _exchanging = false;
                        }

                        return;
                    }
                }
            }
        }

        private sealed class Lease(Pool pool) : IDisposable
        {
            private int _disposed;

            public void Dispose()
            {
                if (Interlocked.Exchange(ref _disposed, 1) == 0)
                {
                    pool.Release();
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

    private static partial class Log
    {
        [LoggerMessage(EventId = 1221, Level = LogLevel.Warning, Message = "Destination {Destination}: could not exchange concurrency permits; keeping those held until their lease ends")]
        public static partial void ExchangeFailed(ILogger logger, Exception exception, string destination);
    }
}
