using Relay.Contracts;

namespace Relay.Grains.Destinations;

/// <summary>
/// The cluster's one record of which destinations are held back — paused by an operator, or with their circuit
/// open — and the circuit breakers themselves. Silos read it a few times a second (one call each) and report
/// their attempts' outcomes to it in batches.
/// </summary>
public interface IDestinationControlGrain : IGrainWithIntegerKey
{
    /// <summary>The current holds; silos call this instead of <see cref="Report"/> when they have nothing to report.</summary>
    Task<DestinationHolds> Get();

    /// <summary>Outcomes of attempts since the silo's last report; answers the current holds.</summary>
    Task<DestinationHolds> Report(OutcomeReport[] reports);

    Task<DestinationHolds> Pause(string destination, string? by);

    Task<DestinationHolds> Resume(string destination, string? by);

    /// <summary>An operator opens (until closed by hand or a probe succeeds) or closes a destination's circuit.</summary>
    Task<DestinationHolds> SetCircuit(string destination, CircuitState state, string? by);

    /// <summary>The outcome of the one attempt let through a half-open circuit.</summary>
    Task ProbeResult(string destination, bool answered);
}

/// <summary>What a silo saw of one destination since its last report.</summary>
[GenerateSerializer, Immutable]
public sealed record OutcomeReport(
    [property: Id(0)] string Destination,
    [property: Id(1)] int Answered,
    [property: Id(2)] int FailuresSinceLastAnswer,
    [property: Id(3)] bool AnyAnswer);

[GenerateSerializer, Immutable]
public sealed record DestinationHold(
    [property: Id(0)] bool Paused,
    [property: Id(1)] CircuitState Circuit,
    [property: Id(2)] DateTimeOffset? OpenUntil,
    [property: Id(3)] string? Reason,
    [property: Id(4)] string? ConfigurationError = null)
{
    /// <summary>
    /// No attempt goes out: paused, or the circuit is open or waiting for its probe, or this silo found the destination
    /// unusable as configured (<see cref="ConfigurationError"/>, a token endpoint refusing the client).
    /// </summary>
    public bool Holds => Paused || Circuit != CircuitState.Closed || ConfigurationError is not null;
}

/// <summary>The destinations that are not simply flowing, by name; absent means closed and not paused.</summary>
[GenerateSerializer, Immutable]
public sealed record DestinationHolds([property: Id(0)] Dictionary<string, DestinationHold> ByDestination)
{
    public static readonly DestinationHolds None = new(new Dictionary<string, DestinationHold>(StringComparer.Ordinal));
}
