namespace Relay.Grains.Destinations;

/// <summary>
/// One per destination with a <c>MaxConcurrency</c>, cluster-wide: the ledger of its permits (<see cref="PermitLedger"/>).
/// Silos hold permits in batches under a lease and call here only to get more, give some back, or renew.
/// </summary>
public interface IDestinationConcurrencyGrain : IGrainWithStringKey
{
    /// <summary>Reports what the calling silo holds and needs; answers what it is granted and may hold.</summary>
    Task<PermitAnswer> Exchange(PermitRequest request);
}

/// <summary>
/// A silo's exchange: the permits it holds now (<see cref="Held"/>, after giving any back), its demand (attempts in
/// flight plus waiting) and how many more it wants.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record PermitRequest(
    [property: Id(0)] SiloAddress Silo,
    [property: Id(1)] int Held,
    [property: Id(2)] int Demand,
    [property: Id(3)] int Wanted);

/// <summary>
/// <see cref="Granted"/> more permits; the most the silo may hold (<see cref="Allowance"/>: it gives back what it holds
/// above, as its attempts end); and how long it may start attempts with them without renewing (<see cref="Lease"/>).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record PermitAnswer(
    [property: Id(0)] int Granted,
    [property: Id(1)] int Allowance,
    [property: Id(2)] TimeSpan Lease);
