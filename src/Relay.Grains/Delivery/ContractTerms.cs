using Relay.Core.Delivery;
using Relay.Core.Options;

namespace Relay.Grains.Delivery;

/// <summary>
/// The retry contract a delivery was accepted with (or last resubmitted with), kept in its state: a change of the
/// contract in the catalog applies to new messages, not to a delivery already under way (docs/OPERATIONS.md, "The
/// catalog"). States stored before it have none and follow the contract in force.
/// </summary>
[GenerateSerializer]
public sealed record ContractTerms
{
    [Id(0)] public string Name { get; init; } = "";
    [Id(1)] public int MaxAttempts { get; init; }
    [Id(2)] public TimeSpan Delay { get; init; }
    [Id(3)] public BackoffKind Backoff { get; init; }
    [Id(4)] public TimeSpan? MaxDelay { get; init; }
    [Id(5)] public double Jitter { get; init; }
    [Id(6)] public int ImmediateRetries { get; init; }

    public static ContractTerms Of(DeliveryRules rules) => new()
    {
        Name = rules.ContractName,
        MaxAttempts = rules.Contract.MaxAttempts,
        Delay = rules.Contract.Delay,
        Backoff = rules.Contract.Backoff,
        MaxDelay = rules.Contract.MaxDelay,
        Jitter = rules.Contract.Jitter,
        ImmediateRetries = rules.Contract.ImmediateRetries,
    };

    /// <summary><paramref name="rules"/> with this contract in place of the one in force.</summary>
    public DeliveryRules Over(DeliveryRules rules) => rules with
    {
        ContractName = Name,
        Contract = new RetryContractOptions
        {
            MaxAttempts = MaxAttempts,
            Delay = Delay,
            Backoff = Backoff,
            MaxDelay = MaxDelay,
            Jitter = Jitter,
            ImmediateRetries = ImmediateRetries,
        },
    };
}
