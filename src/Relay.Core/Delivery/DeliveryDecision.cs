using Relay.Contracts;
using Relay.Core.Messages;
using Relay.Core.Options;
using Relay.Core.Storage;

namespace Relay.Core.Delivery;

/// <summary>
/// What the grain carries out after a transition, in this order (docs/ARCHITECTURE.md, "Crash safety"): hand the
/// notification of the status ending now over, write the new state (one commit), count a completion, hand over what the
/// final status owes, then take a turn, attempt, or wake again. The schedule itself is no effect of its own: it is the
/// new state's <see cref="DeliveryProgress.DueAt"/>, written in the same commit.
/// </summary>
/// <remarks>
/// A new effect (repeating an attempt at once without counting it, say) is a new flag here and its step in the grain's
/// <c>CarryOutAsync</c>.
/// </remarks>
[Flags]
public enum DeliveryEffects
{
    None = 0,
    /// <summary>Before anything else: hand over the final notification the current (old) state owes, which the new state no longer does.</summary>
    HandOverNotificationFirst = 1,
    /// <summary>Write the new state (and its audit) in one commit.</summary>
    Write = 2,
    /// <summary>The delivery reached a final status: count it, once it is stored.</summary>
    Completed = 4,
    /// <summary>After the write: hand over what the final status owes (<see cref="DeliveryProgress.OwesHandOver"/>), then decide <see cref="DeliveryEvent.HandedOver"/>.</summary>
    HandOver = 8,
    /// <summary>
    /// Ask the ordering key whether the delivery is its head (joining its queue): when not, decide
    /// <see cref="DeliveryEvent.TurnRefused"/> and carry out nothing more.
    /// </summary>
    TakeTurn = 16,
    /// <summary>Attempt, once the destination's limits give a slot, then decide <see cref="DeliveryEvent.AttemptFinished"/>.</summary>
    Attempt = 32,
    /// <summary>Wake the delivery again after this call returns (the caller must not wait for its attempt).</summary>
    WakeAgain = 64,
}

/// <summary>The outcome of one transition: the new state, the effects to carry out, and its audit entry, or a refusal.</summary>
public sealed record DeliveryDecision(DeliveryProgress State, DeliveryEffects Effects)
{
    /// <summary>An audit entry to write with the new state (an operator's action, a parking); attempts audit their tries themselves.</summary>
    public AuditNote? Audit { get; init; }

    /// <summary>The event is refused, for the caller to read (a resubmit of a delivered delivery, say); nothing changes.</summary>
    public RelayError? Refusal { get; init; }

    /// <summary>When a retry scheduler is to wake the delivery (null: never, until something else happens).</summary>
    public DateTimeOffset? ScheduleAt => State.DueAt;

    public bool Has(DeliveryEffects effect) => (Effects & effect) == effect;
}

/// <summary>An audit entry as the lifecycle decides it; the grain numbers it and names the silo.</summary>
public sealed record AuditNote(AuditKind Kind)
{
    public int Attempt { get; init; }
    public AttemptOutcome? Outcome { get; init; }
    public int? StatusCode { get; init; }
    public string? By { get; init; }
    public string? Detail { get; init; }
}

/// <summary>The configuration a transition reads.</summary>
/// <param name="Destination">The delivery's destination; null when it is no longer configured.</param>
/// <param name="ContractName">The name of the contract the delivery runs under (its override, else its destination's, else the default).</param>
/// <param name="Contract">That contract.</param>
/// <param name="RecoveryGrace">How long after an attempt began or a final status was stored a scheduler takes over when the silo died.</param>
public readonly record struct DeliveryRules(DestinationOptions? Destination, string ContractName, RetryContractOptions Contract, TimeSpan RecoveryGrace)
{
    /// <summary>The rules of a delivery under <paramref name="options"/>: its destination (if still configured) and its contract.</summary>
    public static DeliveryRules For(RelayOptions options, string destination, string? contractOverride)
    {
        ArgumentNullException.ThrowIfNull(options);
        var name = options.ContractNameFor(destination, contractOverride);
        return new(options.Destinations.GetValueOrDefault(destination), name, options.GetContract(name), options.Scheduler.RecoveryGrace);
    }
}
