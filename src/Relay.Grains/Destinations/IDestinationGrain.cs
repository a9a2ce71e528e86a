namespace Relay.Grains.Destinations;

/// <summary>
/// One per destination, cluster-wide: the token bucket behind the destination's <c>MaxPerSecond</c>. Silos
/// lease small batches of tokens from it, so the sum over all silos stays within the limit.
/// </summary>
public interface IDestinationGrain : IGrainWithStringKey
{
    /// <summary>Takes up to <paramref name="wanted"/> tokens; answers how many, and when to ask again if none.</summary>
    Task<TokenGrant> Acquire(int wanted);
}

[GenerateSerializer, Immutable]
public readonly record struct TokenGrant([property: Id(0)] int Granted, [property: Id(1)] TimeSpan AskAgainIn);
