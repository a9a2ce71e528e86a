namespace Relay.Grains.Messages;

/// <summary>
/// Where a new delivery is activated for its first attempt: on the silo that took the request, named by Orleans's
/// placement hint (<see cref="MessageFanOut.AcceptAsync"/>), so that the payload does not cross the cluster before its
/// first attempt. A silo alone in its cluster names none: its deliveries' hash places them on it anyway, and a hint is
/// request context that each call carries and each activation and call imports (0.6 KB per message; issue 14).
/// </summary>
public sealed class FirstAttemptPlacement(ILocalSiloDetails silo, IClusterMembershipService membership)
{
    private Seen _seen = new(MembershipVersion.MinValue, Alone: false);

    /// <summary>This silo, or null while it is the only active silo of its cluster.</summary>
    public SiloAddress? Hint
    {
        get
        {
            var snapshot = membership.CurrentSnapshot;
            var seen = Volatile.Read(ref _seen);
            if (seen.Version != snapshot.Version)
            {
                seen = new Seen(snapshot.Version, Alone(snapshot));
                Volatile.Write(ref _seen, seen);
            }

            return seen.Alone ? null : silo.SiloAddress;
        }
    }

    private bool Alone(ClusterMembershipSnapshot snapshot)
    {
        foreach (var (address, member) in snapshot.Members)
        {
            if (member.Status == SiloStatus.Active && !address.Equals(silo.SiloAddress))
            {
                return false;
            }
        }

        return true;
    }

    private sealed record Seen(MembershipVersion Version, bool Alone);
}
