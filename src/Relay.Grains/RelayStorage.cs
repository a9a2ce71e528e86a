namespace Relay.Grains;

public static class RelayStorage
{
    /// <summary>The grain storage name of Relay's grains.</summary>
    public const string Name = "relay";

    /// <summary>
    /// The grain storage of the small, rarely written states: a destination's pause and circuit (and an ordering key's
    /// queue as versions before its rows stored it). On PostgreSQL, Orleans's own ADO.NET grain storage; embedded, the
    /// same SQLite file as the rest.
    /// </summary>
    public const string ControlName = "relay-control";
}
