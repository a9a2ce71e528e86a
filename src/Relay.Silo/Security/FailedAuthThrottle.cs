using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Relay.Silo.Security;

/// <summary>
/// Counts failed authentications per client address (<see cref="ClientAddress"/>): after
/// <see cref="FailedAuthOptions.Limit"/> failures within <see cref="FailedAuthOptions.Window"/> (counted from the first),
/// the address is blocked until that window ends: its key attempts are answered 429 with <c>Retry-After</c>.
/// <para>
/// A blocked address still serves the callers that have authenticated from it before (within a day): a service that
/// shares its address with a guesser (a NAT, a proxy not configured as trusted) keeps working. Any other key, even a
/// valid one, is refused unchecked while the block lasts, so that the answer never tells a guesser that a guess was
/// right; a request without a key is not an attempt and is not counted.
/// </para>
/// </summary>
public sealed class FailedAuthThrottle
{
    /// <summary>How long a caller's success at an address is remembered for <see cref="Check"/>.</summary>
    internal static readonly TimeSpan RememberSuccessFor = TimeSpan.FromDays(1);

    /// <summary>A success is written again at most this often: the hot path reads, it rarely writes.</summary>
    private static readonly TimeSpan SuccessRefresh = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, Failures> _failures = new(StringComparer.Ordinal);

    private readonly ConcurrentDictionary<(string Client, string Caller), long> _successes = new();

    private readonly TimeProvider _time;

    private readonly int _limit;

    private readonly TimeSpan _window;

    private long _nextSweep;

    public FailedAuthThrottle(IOptions<FailedAuthOptions> options, TimeProvider time)
    {
        _time = time;
        _limit = options.Value.Limit;
        _window = options.Value.Window;
        _nextSweep = time.GetTimestamp();
    }

    /// <summary>
    /// How long <paramref name="client"/> must wait before its next attempt, or <c>null</c> when the attempt may go on:
    /// the address is not blocked, or <paramref name="caller"/> (the key's owner, <c>null</c> for an unknown key) has
    /// authenticated from it before.
    /// </summary>
    public TimeSpan? Check(string client, RelayCaller? caller)
    {
        if (!_failures.TryGetValue(client, out var failures))
        {
            return null;
        }

        var now = _time.GetTimestamp();
        var retryAfter = failures.BlockedFor(now, _limit, _window, _time);
        if (retryAfter is null)
        {
            return null;
        }

        return caller is not null && _successes.TryGetValue((client, caller.Name), out var seen)
            && _time.GetElapsedTime(seen, now) < RememberSuccessFor
            ? null
            : retryAfter;
    }

    /// <summary>Counts a failed attempt of <paramref name="client"/>.</summary>
    public void Failed(string client)
    {
        var now = _time.GetTimestamp();
        SweepNow(now);
        _failures.GetOrAdd(client, static _ => new Failures()).Add(now, _window, _time);
    }

    /// <summary>Remembers that <paramref name="caller"/> authenticated from <paramref name="client"/>.</summary>
    public void Succeeded(string client, RelayCaller caller)
    {
        var now = _time.GetTimestamp();
        var key = (client, caller.Name);
        if (_successes.TryGetValue(key, out var seen) && _time.GetElapsedTime(seen, now) < SuccessRefresh)
        {
            return;
        }

        _successes[key] = now;
        SweepNow(now);
    }

    /// <summary>Addresses currently counted (for tests and the sweep).</summary>
    internal int Tracked => _failures.Count;

    /// <summary>Once per window at most: forgets the windows that ended and the successes too old to count.</summary>
    private void SweepNow(long now)
    {
        var due = Interlocked.Read(ref _nextSweep);
        if (now < due || Interlocked.CompareExchange(ref _nextSweep, now + (long)(_window.TotalSeconds * _time.TimestampFrequency), due) != due)
        {
            return;
        }

        foreach (var (client, failures) in _failures)
        {
            if (failures.Ended(now, _window, _time))
            {
                _failures.TryRemove(new KeyValuePair<string, Failures>(client, failures));
            }
        }

        foreach (var (key, seen) in _successes)
        {
            if (_time.GetElapsedTime(seen, now) >= RememberSuccessFor)
            {
                _successes.TryRemove(new KeyValuePair<(string, string), long>(key, seen));
            }
        }
    }

    /// <summary>One address's failures in its current window.</summary>
    private sealed class Failures
    {
        private readonly Lock _lock = new();

        private long _start;

        private int _count;

        public void Add(long now, TimeSpan window, TimeProvider time)
        {
            lock (_lock)
            {
                if (_count == 0 || time.GetElapsedTime(_start, now) >= window)
                {
                    (_start, _count) = (now, 0);
                }

                _count++;
            }
        }

        public TimeSpan? BlockedFor(long now, int limit, TimeSpan window, TimeProvider time)
        {
            lock (_lock)
            {
                var left = window - time.GetElapsedTime(_start, now);
                return _count >= limit && left > TimeSpan.Zero ? left : null;
            }
        }

        public bool Ended(long now, TimeSpan window, TimeProvider time)
        {
            lock (_lock)
            {
                return time.GetElapsedTime(_start, now) >= window;
            }
        }
    }
}
