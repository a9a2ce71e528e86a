using Relay.Core.Messages;

namespace Relay.Core.Retry;

/// <summary>
/// The due deliveries a retry scheduler leaves alone for a while because waking them failed: a poison row (a state
/// that cannot be read, a bug that throws on every wake) would otherwise be woken at every poll, log its failure at
/// every poll and, sitting at the head of the due rows, take the poll's places from every delivery behind it.
/// </summary>
/// <remarks>
/// A failed wake holds its key for <see cref="Delay"/>: the poll interval, doubled at each failure in a row, up to
/// <c>max</c>; a wake that succeeds forgets it. The scheduler reads as many more due rows as it holds keys, so the held
/// ones take no place from the others. At most <c>capacity</c> keys are held (the extra rows read per poll stay
/// bounded); a key that fails beyond that is woken at every poll as before, still without taking a place for long.
/// Pure logic, one instance per scheduler activation (a grain runs one call at a time: no locking).
/// </remarks>
public sealed class WakeBackoff(TimeSpan first, TimeSpan max, int capacity)
{
    private readonly Dictionary<DeliveryKey, (int Failures, DateTimeOffset Until)> _held = [];

    /// <summary>Keys held or recently held (what the poll must read beyond its batch to see past them).</summary>
    public int Count => _held.Count;

    /// <summary>How long a key is held after <paramref name="failures"/> failed wakes in a row: first, doubled each time, at most max.</summary>
    public static TimeSpan Delay(int failures, TimeSpan first, TimeSpan max)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(failures, 1);
        // 2^30 poll intervals is years: beyond that the doubling cannot matter, and it must not overflow.
        var factor = Math.Pow(2, Math.Min(failures - 1, 30));
        var ticks = first.Ticks * factor;
        return ticks >= max.Ticks ? max : TimeSpan.FromTicks((long)ticks);
    }

    /// <summary>Whether <paramref name="key"/> must not be woken at <paramref name="now"/>.</summary>
    public bool IsHeld(DeliveryKey key, DateTimeOffset now) => _held.TryGetValue(key, out var held) && held.Until > now;

    /// <summary>
    /// Records a failed wake of <paramref name="key"/>: its failures in a row and how long it is now held, or
    /// <c>null</c> when <c>capacity</c> keys are held already (it is not held).
    /// </summary>
    public (int Failures, TimeSpan Delay)? Failed(DeliveryKey key, DateTimeOffset now)
    {
        var failures = _held.TryGetValue(key, out var held) ? held.Failures + 1 : 1;
        if (failures == 1 && _held.Count >= capacity)
        {
            return null;
        }

        var delay = Delay(failures, first, max);
        _held[key] = (failures, now + delay);
        return (failures, delay);
    }

    /// <summary>A wake that succeeded: the key is woken as any other from now on.</summary>
    public void Succeeded(DeliveryKey key) => _held.Remove(key);

    /// <summary>
    /// Forgets keys whose hold ended more than <c>max</c> ago without another wake (their row is no longer due: it was
    /// attempted elsewhere, resubmitted, discarded), so that <see cref="Count"/> does not grow with them.
    /// </summary>
    public void Prune(DateTimeOffset now)
    {
        foreach (var (key, held) in _held)
        {
            if (held.Until + max < now)
            {
                _held.Remove(key);
            }
        }
    }
}
