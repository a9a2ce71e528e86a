using Relay.Core.Options;

namespace Relay.Grains.Destinations;

/// <summary>
/// This silo's side of a destination's <c>MaxPerSecond</c>. An attempt waits here for a send slot leased from the
/// destination's grain; it starts at its slot's time, and a slot missed by more than <see cref="Lateness"/> (a busy
/// moment on this silo) is dropped rather than used late, so no burst ever makes up for lost time.
/// Destinations without a limit never come here.
/// </summary>
internal sealed class DestinationRateLimiter(IGrainFactory grains, TimeProvider time) : IDisposable
{
    internal static readonly TimeSpan Lateness = TimeSpan.FromMilliseconds(20);

    private readonly Dictionary<string, Gate> _gates = new(StringComparer.Ordinal);

    // Cancelled when the silo stops (the container disposes this singleton): no wait here outlives the host.
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Waits for a send slot of <paramref name="destination"/>; false when none came within <paramref name="maxWait"/>.</summary>
    public async Task<bool> WaitAsync(string destination, DestinationOptions options, TimeSpan maxWait)
    {
        if (options.MaxPerSecond is null)
        {
            return true;
        }

        Gate gate;
        lock (_gates)
        {
            if (!_gates.TryGetValue(destination, out gate!))
            {
                gate = new Gate(grains.GetGrain<IDestinationPacerGrain>(destination), time, _stopping.Token);
                _gates.Add(destination, gate);
            }

            // The catalog may change MaxPerSecond at runtime: the lease size follows it (the pace is the grain's).
            gate.Batch = Math.Max(1, options.MaxPerSecond.Value / 10);
        }

        var deadline = time.GetTimestamp() + (long)(maxWait.TotalSeconds * time.TimestampFrequency);
        while (true)
        {
            var remaining = TimeSpan.FromSeconds((deadline - time.GetTimestamp()) / (double)time.TimestampFrequency);
            if (remaining <= TimeSpan.Zero)
            {
                return false;
            }

            var slot = await gate.NextSlotAsync(remaining).ConfigureAwait(false);
            if (slot is not { } at)
            {
                return false;
            }

            var wait = TimeSpan.FromSeconds((at - time.GetTimestamp()) / (double)time.TimestampFrequency);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, time, _stopping.Token).ConfigureAwait(false);
            }

            var late = TimeSpan.FromSeconds((time.GetTimestamp() - at) / (double)time.TimestampFrequency);
            if (late <= Lateness)
            {
                return true;
            }

            // Too late for this slot: using it now would crowd the next ones. Take another.
        }
    }

    public void Dispose()
    {
        // Cancel only: a CancellationTokenSource without a timer holds nothing to free, and a late caller may still read its token.
        _stopping.Cancel();
    }

    /// <summary>Leases slots for the attempts waiting on this silo and hands them out in order.</summary>
    private sealed class Gate(IDestinationPacerGrain grain, TimeProvider time, CancellationToken stopping)
    {
        /// <summary>Slots asked of the grain at once.</summary>
        public int Batch { get; set; } = 1;

        private readonly Queue<TaskCompletionSource<long?>> _waiters = new();
        private readonly Queue<long> _slots = new();
        private bool _filling;

        /// <summary>The timestamp of this caller's slot, or null when none came in time.</summary>
        public async Task<long?> NextSlotAsync(TimeSpan maxWait)
        {
            TaskCompletionSource<long?> waiter;
            lock (_waiters)
            {
                DropStale();
                if (_slots.TryDequeue(out var slot))
                {
                    return slot;
                }

                waiter = new TaskCompletionSource<long?>(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiters.Enqueue(waiter);
                if (!_filling)
                {
                    _filling = true;
                    _ = Task.Run(FillAsync);
                }
            }

            using var timeout = new CancellationTokenSource(maxWait, time);
            await using var registration = timeout.Token.Register(() => waiter.TrySetResult(null));
            return await waiter.Task.ConfigureAwait(false);
        }

        private void DropStale()
        {
            var now = time.GetTimestamp();
            var lateness = (long)(Lateness.TotalSeconds * time.TimestampFrequency);
            while (_slots.TryPeek(out var slot) && now - slot > lateness)
            {
                _slots.Dequeue();
            }
        }

        private async Task FillAsync()
        {
            while (true)
            {
                int wanted;
                lock (_waiters)
                {
                    while (_waiters.TryPeek(out var head) && head.Task.IsCompleted)
                    {
                        _waiters.Dequeue();
                    }

                    if (_waiters.Count == 0)
                    {
                        _filling = false;
                        return;
                    }

                    wanted = Math.Min(_waiters.Count, Batch);
                }

                SlotGrant grant;
                try
                {
                    grant = await grain.Acquire(wanted).ConfigureAwait(false);
                }
                catch (Exception)
                {
                    // The destination grain is moving (a silo left): ask again shortly.
                    grant = new SlotGrant(0, TimeSpan.FromMilliseconds(100), TimeSpan.Zero);
                }

                var received = time.GetTimestamp();
                lock (_waiters)
                {
                    for (var i = 0; i < grant.Count; i++)
                    {
                        var at = received + (long)((grant.FirstIn + grant.Spacing * i).TotalSeconds * time.TimestampFrequency);
                        var given = false;
                        while (!given && _waiters.TryDequeue(out var waiter))
                        {
                            // A waiter that gave up meanwhile is skipped.
                            given = waiter.TrySetResult(at);
                        }

                        if (!given)
                        {
                            // Nobody waits any more: keep the slot for the next caller (dropped once stale).
                            _slots.Enqueue(at);
                        }
                    }
                }

                if (grant.Count == 0)
                {
                    var pause = grant.FirstIn < TimeSpan.FromMilliseconds(2) ? TimeSpan.FromMilliseconds(2) : grant.FirstIn;
                    try
                    {
                        await Task.Delay(pause, time, stopping).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        // The silo stops: the waiters' own deadlines answer them.
                        return;
                    }
                }
            }
        }
    }
}
