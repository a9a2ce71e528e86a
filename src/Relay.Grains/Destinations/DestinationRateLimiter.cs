using Relay.Core.Options;

namespace Relay.Grains.Destinations;

/// <summary>
/// This silo's side of a destination's <c>MaxPerSecond</c>: attempts wait here for a token; tokens are leased
/// from the destination's grain in small batches, as many as attempts are waiting. Destinations without a
/// limit never come here.
/// </summary>
internal sealed class DestinationRateLimiter(IGrainFactory grains, TimeProvider time)
{
    private readonly Dictionary<string, Gate> _gates = new(StringComparer.Ordinal);

    /// <summary>Waits for a token of <paramref name="destination"/>; false when none came within <paramref name="maxWait"/>.</summary>
    public Task<bool> WaitAsync(string destination, DestinationOptions options, TimeSpan maxWait)
    {
        if (options.MaxPerSecond is null)
        {
            return Task.FromResult(true);
        }

        Gate gate;
        lock (_gates)
        {
            if (!_gates.TryGetValue(destination, out gate!))
            {
                gate = new Gate(grains.GetGrain<IDestinationGrain>(destination), Math.Max(1, options.MaxPerSecond.Value / 10), time);
                _gates.Add(destination, gate);
            }
        }

        return gate.WaitAsync(maxWait);
    }

    private sealed class Gate(IDestinationGrain grain, int batch, TimeProvider time)
    {
        private readonly Queue<TaskCompletionSource<bool>> _waiters = new();
        private int _tokens;
        private bool _filling;

        public Task<bool> WaitAsync(TimeSpan maxWait)
        {
            TaskCompletionSource<bool> waiter;
            lock (_waiters)
            {
                if (_tokens > 0)
                {
                    _tokens--;
                    return Task.FromResult(true);
                }

                waiter = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiters.Enqueue(waiter);
                if (!_filling)
                {
                    _filling = true;
                    _ = Task.Run(FillAsync);
                }
            }

            return WithDeadline(waiter, maxWait);
        }

        private async Task<bool> WithDeadline(TaskCompletionSource<bool> waiter, TimeSpan maxWait)
        {
            using var timeout = new CancellationTokenSource(maxWait, time);
            await using var registration = timeout.Token.Register(() => waiter.TrySetResult(false));
            return await waiter.Task.ConfigureAwait(false);
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

                    wanted = Math.Min(_waiters.Count, batch);
                }

                TokenGrant grant;
                try
                {
                    grant = await grain.Acquire(wanted).ConfigureAwait(false);
                }
                catch (Exception)
                {
                    // The destination grain is moving (a silo left): ask again shortly.
                    grant = new TokenGrant(0, TimeSpan.FromMilliseconds(100));
                }

                lock (_waiters)
                {
                    var left = grant.Granted;
                    while (left > 0 && _waiters.TryDequeue(out var waiter))
                    {
                        if (waiter.TrySetResult(true))
                        {
                            left--;
                        }
                    }

                    // A token granted for a waiter that gave up meanwhile is kept for the next one.
                    _tokens += left;
                }

                if (grant.Granted == 0)
                {
                    await Task.Delay(grant.AskAgainIn < TimeSpan.FromMilliseconds(5) ? TimeSpan.FromMilliseconds(5) : grant.AskAgainIn, time).ConfigureAwait(false);
                }
            }
        }
    }
}
