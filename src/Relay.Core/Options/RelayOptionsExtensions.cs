namespace Relay.Core.Options;

public static class RelayOptionsExtensions
{
    /// <summary>The contract of a name, or the built-in <c>default</c> (5 attempts, 5 s apart).</summary>
    public static RetryContractOptions GetContract(this RelayOptions options, string? name)
    {
        ArgumentNullException.ThrowIfNull(options);
        name ??= RelayOptions.DefaultContractName;
        return options.Contracts.TryGetValue(name, out var contract) ? contract : DefaultContract;
    }

    /// <summary>The contract a delivery runs under: its override, else its destination's, else the default.</summary>
    public static string ContractNameFor(this RelayOptions options, string destination, string? overrideName)
    {
        ArgumentNullException.ThrowIfNull(options);
        return overrideName
            ?? (options.Destinations.TryGetValue(destination, out var d) ? d.Contract : null)
            ?? RelayOptions.DefaultContractName;
    }

    private static readonly RetryContractOptions DefaultContract = new() { MaxAttempts = 5, Delay = TimeSpan.FromSeconds(5) };
}
