namespace Relay.Grains;

public static class RelayStorage
{
    /// <summary>The grain storage name of Relay's grains.</summary>
    public const string Name = "relay";
}
