using System.Collections.Immutable;
using System.Net;
using Orleans.Runtime;
using Relay.Grains.Messages;

namespace Relay.Grains.Tests.Messages;

/// <summary>
/// A new delivery is placed on the silo that took the request by a placement hint, unless that silo is alone in its
/// cluster (its hash places the delivery on it anyway, and the hint would be request context on every call).
/// </summary>
public sealed class FirstAttemptPlacementTests
{
    private static readonly SiloAddress Here = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11111), 1);
    private static readonly SiloAddress Other = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11112), 1);

    [Fact]
    public void A_silo_alone_names_no_hint()
    {
        var membership = new Membership();
        membership.Set(1, (Here, SiloStatus.Active));

        Assert.Null(Placement(membership).Hint);
    }

    [Fact]
    public void A_silo_with_an_active_peer_names_itself_and_again_alone_none()
    {
        var membership = new Membership();
        membership.Set(1, (Here, SiloStatus.Active));
        var placement = Placement(membership);
        Assert.Null(placement.Hint);

        membership.Set(2, (Here, SiloStatus.Active), (Other, SiloStatus.Active));
        Assert.Equal(Here, placement.Hint);

        membership.Set(3, (Here, SiloStatus.Active), (Other, SiloStatus.Dead));
        Assert.Null(placement.Hint);
    }

    [Theory]
    [InlineData(SiloStatus.Joining)]
    [InlineData(SiloStatus.ShuttingDown)]
    [InlineData(SiloStatus.Dead)]
    public void A_peer_that_is_not_active_takes_no_activations_so_the_silo_is_alone(SiloStatus status)
    {
        var membership = new Membership();
        membership.Set(1, (Here, SiloStatus.Active), (Other, status));

        Assert.Null(Placement(membership).Hint);
    }

    private static FirstAttemptPlacement Placement(Membership membership) => new(new LocalSilo(), membership);

    private sealed class LocalSilo : ILocalSiloDetails
    {
        public string Name => "here";

        public string ClusterId => "test";

        public string DnsHostName => "localhost";

        public SiloAddress SiloAddress => Here;

        public SiloAddress GatewayAddress => Here;
    }

    private sealed class Membership : IClusterMembershipService
    {
        public ClusterMembershipSnapshot CurrentSnapshot { get; private set; } =
            new(ImmutableDictionary<SiloAddress, ClusterMember>.Empty, MembershipVersion.MinValue);

        public IAsyncEnumerable<ClusterMembershipSnapshot> MembershipUpdates => throw new NotSupportedException();

        public void Set(long version, params (SiloAddress Address, SiloStatus Status)[] members) =>
            CurrentSnapshot = new ClusterMembershipSnapshot(
                members.ToImmutableDictionary(m => m.Address, m => new ClusterMember(m.Address, m.Status, m.Address.ToString())),
                new MembershipVersion(version));

        public ValueTask Refresh(MembershipVersion minimumVersion = default, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public Task<bool> TryKill(SiloAddress siloAddress) => throw new NotSupportedException();
    }
}
