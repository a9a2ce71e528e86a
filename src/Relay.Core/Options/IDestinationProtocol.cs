namespace Relay.Core.Options;

/// <summary>
/// What <see cref="RelayOptionsValidator"/> needs of a protocol: its name (a destination's <c>Protocol</c>), the
/// address schemes its adapter calls, and the rules of its own settings. Each adapter registers one (Relay.Adapters:
/// <c>services.AddRelay...Adapter()</c>), so the central validator keeps only what every destination shares.
/// </summary>
public interface IDestinationProtocol
{
    /// <summary>The value of a destination's <c>Protocol</c>, compared case-insensitively, e.g. <c>Soap</c>.</summary>
    string Name { get; }

    /// <summary>The schemes a destination's <c>Address</c> may have, e.g. <c>http</c> and <c>https</c>.</summary>
    IReadOnlyCollection<string> Schemes { get; }

    /// <summary>
    /// Adds one line to <paramref name="errors"/> for each problem of the protocol's own settings of a destination,
    /// each naming its key under <paramref name="key"/> (<c>Relay:Destinations:{name}</c>). Asked only for a
    /// destination of this protocol whose shared settings the central validator has checked.
    /// </summary>
    void Validate(string key, DestinationOptions destination, ICollection<string> errors);
}
