namespace Relay.Silo.Tests.Performance;

/// <summary>
/// The allocation tests run alone: they count every byte the process allocates, so another test's silo running beside
/// them would add its allocations to theirs.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PerformanceCollection
{
    public const string Name = "Performance";
}
