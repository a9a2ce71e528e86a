using Microsoft.Extensions.Options;
using Relay.Core.Options;

namespace Relay.Grains.Destinations;

/// <summary>The grain of a destination's <see cref="Pacer"/>: one per destination with a <c>MaxPerSecond</c>, cluster-wide.</summary>
internal sealed class DestinationPacerGrain(IOptions<RelayOptions> options, TimeProvider time) : Grain, IDestinationPacerGrain
{
    private readonly Pacer _pacer = new(time);

    public Task<SlotGrant> Acquire(int wanted) => Task.FromResult(_pacer.Acquire(
        wanted,
        options.Value.Destinations.TryGetValue(this.GetPrimaryKeyString(), out var destination) ? destination.MaxPerSecond : null));
}
