namespace Relay.Silo.Hosting;

/// <summary>The configuration cannot run: each problem is one line naming its key.</summary>
public sealed class RelayConfigurationException(IReadOnlyList<string> problems)
    : Exception(string.Join(Environment.NewLine, problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
