namespace Relay.Grains.Destinations;

/// <summary>
/// The cluster's one account of a destination's <c>MaxConcurrency</c> permits (kept by
/// <see cref="DestinationConcurrencyGrain"/>): which silo holds how many. A silo holds permits in a batch and starts
/// attempts with them without asking again (<see cref="ConcurrencyLimiter"/>); it exchanges with the ledger only to
/// get more, to give some back, and to renew its lease. The sum of what the silos hold never exceeds the limit, so
/// the attempts in flight across the cluster never do.
/// </summary>
/// <remarks>
/// <para>Fair shares: every exchange reports the silo's demand (attempts in flight plus waiting). Demand within the
/// limit: each silo may hold what it needs plus the spare. Beyond it: the limit is shared by water-filling, and the
/// permits that do not divide (a limit of 1 over 3 busy silos) go round the silos every <see cref="RotationPeriod"/>.
/// A silo holding more than its allowance gives the surplus back as its attempts end.</para>
/// <para>A silo that dies holding permits: its lease is not renewed, and its permits come back after
/// <see cref="LeaseTerm"/> plus the longest attempt it may still have in flight (<c>reclaimAfter</c>), or at once when
/// the membership declares it dead. A silo that cannot renew stops starting attempts after <see cref="LeaseTerm"/>
/// (its side of the lease), before the ledger gives its permits to another.</para>
/// <para>The ledger itself moving (its silo died): the new one does not know who holds what. It grants nothing new for
/// <c>reclaimAfter</c> (every silo either renews within that, and its holding is counted again, or has stopped),
/// but only when a ledger before it granted anything (<c>recovering</c>): a fresh cluster starts at once.</para>
/// </remarks>
internal sealed class PermitLedger
{
    /// <summary>How long a silo may start attempts with its permits after its last exchange with the ledger.</summary>
    internal static readonly TimeSpan LeaseTerm = TimeSpan.FromSeconds(5);

    /// <summary>How long a contended odd permit stays with one silo before the next silo's turn.</summary>
    internal static readonly TimeSpan RotationPeriod = TimeSpan.FromSeconds(1);

    private readonly int _max;
    private readonly TimeSpan _reclaimAfter;
    private readonly TimeProvider _time;
    private readonly Func<SiloAddress, bool> _isDead;
    private readonly SortedDictionary<SiloAddress, Holder> _holders = new();
    private readonly long _graceUntil;
    private long _rotatedAt;
    private int _turn;

    /// <param name="max">The destination's MaxConcurrency.</param>
    /// <param name="longestAttempt">The longest an attempt started under a lease may still run after it.</param>
    /// <param name="recovering">A ledger before this one granted permits that may still be held.</param>
    public PermitLedger(int max, TimeSpan longestAttempt, bool recovering, TimeProvider time, Func<SiloAddress, bool> isDead)
    {
        _max = max;
        _reclaimAfter = LeaseTerm + longestAttempt;
        _time = time;
        _isDead = isDead;
        _rotatedAt = time.GetTimestamp();
        _graceUntil = recovering ? _rotatedAt + Ticks(_reclaimAfter) : 0;
    }

    /// <summary>Permits held across the cluster, as far as the ledger knows.</summary>
    public int Held
    {
        get
        {
            lock (_holders)
            {
                return _holders.Values.Sum(h => h.Held);
            }
        }
    }

    /// <summary>
    /// A silo's exchange: it reports what it holds now (after giving back any surplus) and its demand, and asks for
    /// more. Answers at once, granting what the limit and the silo's allowance leave (maybe none: the silo asks again
    /// shortly while it has attempts waiting).
    /// </summary>
    public PermitAnswer Exchange(PermitRequest request)
    {
        lock (_holders)
        {
            var now = _time.GetTimestamp();
            Reclaim(now);
            if (!_holders.TryGetValue(request.Silo, out var holder))
            {
                holder = new Holder();
                _holders.Add(request.Silo, holder);
            }

            // Exchanges of one silo are one at a time (the limiter sees to it): what it reports is what it holds.
            holder.Held = request.Held;
            holder.Demand = request.Demand;
            holder.LastSeen = now;
            if (holder.Held == 0 && holder.Demand == 0)
            {
                // Nothing held, nothing wanted: nothing to remember.
                _holders.Remove(request.Silo);
                return new PermitAnswer(0, Allowance(request.Silo, now), LeaseTerm);
            }

            var allowance = Allowance(request.Silo, now);
            var granted = 0;
            if (request.Wanted > 0 && now >= _graceUntil)
            {
                var free = _max - _holders.Values.Sum(h => h.Held);
                granted = Math.Max(0, Math.Min(request.Wanted, Math.Min(allowance - holder.Held, free)));
                holder.Held += granted;
            }

            return new PermitAnswer(granted, allowance, LeaseTerm);
        }
    }

    /// <summary>Frees the permits of silos dead or silent for longer than a lease and its longest attempt.</summary>
    private void Reclaim(long now)
    {
        List<SiloAddress>? gone = null;
        foreach (var (silo, holder) in _holders)
        {
            if (_isDead(silo) || now - holder.LastSeen > Ticks(_reclaimAfter))
            {
                (gone ??= []).Add(silo);
            }
        }

        foreach (var silo in gone ?? [])
        {
            _holders.Remove(silo);
        }
    }

    /// <summary>The most <paramref name="silo"/> may hold now: its fair share of the limit (see the remarks above).</summary>
    private int Allowance(SiloAddress silo, long now)
    {
        var demand = _holders.Sum(h => h.Value.Demand);
        var own = _holders.TryGetValue(silo, out var holder) ? holder.Demand : 0;
        if (demand <= _max)
        {
            return own + (_max - demand);
        }

        if (now - _rotatedAt >= Ticks(RotationPeriod))
        {
            _rotatedAt = now;
            _turn++;
        }

        // Water-filling: equal shares, a silo that needs less than its share leaves the rest to the others.
        var wanting = _holders.Where(h => h.Value.Demand > 0).Select(h => (Silo: h.Key, h.Value.Demand)).ToArray();
        var shares = new int[wanting.Length];
        var left = _max;
        while (left > 0)
        {
            var unmet = Enumerable.Range(0, wanting.Length).Where(i => shares[i] < wanting[i].Demand).ToArray();
            if (unmet.Length == 0)
            {
                break;
            }

            var share = left / unmet.Length;
            if (share == 0)
            {
                // Fewer permits than silos wanting one: they go round.
                for (var k = 0; k < left; k++)
                {
                    shares[unmet[(_turn + k) % unmet.Length]]++;
                }

                break;
            }

            foreach (var i in unmet)
            {
                var give = Math.Min(share, wanting[i].Demand - shares[i]);
                shares[i] += give;
                left -= give;
            }
        }

        var index = Array.FindIndex(wanting, w => w.Silo.Equals(silo));
        return index < 0 ? 0 : shares[index];
    }

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);

    private sealed class Holder
    {
        public int Held;
        public int Demand;
        public long LastSeen;
    }
}
