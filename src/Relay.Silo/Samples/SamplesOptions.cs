namespace Relay.Silo.Samples;

/// <summary><c>Relay:Samples</c>: the sample destinations served by the silo itself (<see cref="SampleEndpoints"/>).</summary>
public sealed class SamplesOptions
{
    public const string SectionName = "Relay:Samples";

    /// <summary>Serve <c>/samples/...</c>; false (the default) except in the shipped appsettings.json.</summary>
    public bool Enabled { get; set; }
}
