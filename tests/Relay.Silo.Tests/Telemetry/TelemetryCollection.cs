namespace Relay.Silo.Tests.Telemetry;

/// <summary>
/// The telemetry tests run alone: meters and activity sources are matched by name across the whole process, so
/// another test's silo running beside them would add its figures and spans to theirs.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TelemetryCollection
{
    public const string Name = "Telemetry";
}
