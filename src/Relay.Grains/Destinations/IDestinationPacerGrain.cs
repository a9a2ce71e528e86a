namespace Relay.Grains.Destinations;

/// <summary>
/// One per destination, cluster-wide: the pacer behind the destination's <c>MaxPerSecond</c>. It hands out
/// send slots spaced 1/MaxPerSecond apart; silos lease a few at a time, as many as attempts are waiting, so the
/// sum over all silos stays within the limit whatever the number of silos.
/// </summary>
public interface IDestinationPacerGrain : IGrainWithStringKey
{
    /// <summary>Up to <paramref name="wanted"/> slots within the next moment; none means ask again after <see cref="SlotGrant.FirstIn"/>.</summary>
    Task<SlotGrant> Acquire(int wanted);
}

/// <summary>
/// <see cref="Count"/> send slots: the first <see cref="FirstIn"/> from now (as the grain saw it), then every
/// <see cref="Spacing"/>. Relative times, so the clocks of the silos need not agree.
/// </summary>
[GenerateSerializer, Immutable]
public readonly record struct SlotGrant(
    [property: Id(0)] int Count,
    [property: Id(1)] TimeSpan FirstIn,
    [property: Id(2)] TimeSpan Spacing);
