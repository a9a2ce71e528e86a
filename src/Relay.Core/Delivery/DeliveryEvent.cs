using Relay.Contracts;

namespace Relay.Core.Delivery;

/// <summary>
/// What happens to a delivery: the inputs of <see cref="DeliveryLifecycle.Decide"/>. Each carries what the grain
/// observed of the world (a destination held, an adapter's answer); the lifecycle decides the rest.
/// </summary>
/// <remarks>
/// A new kind of step (a delivery waiting for an asynchronous acknowledgment, say) is a new event here, its case in
/// <see cref="DeliveryLifecycle.Decide"/>, and the grain method that raises it.
/// </remarks>
public abstract record DeliveryEvent
{
    private DeliveryEvent()
    {
    }

    /// <summary>A new delivery is stored: attempted within the request when asked and possible.</summary>
    /// <param name="AttemptNow">The caller wants the first attempt within the call (a sender's request).</param>
    /// <param name="Held">The destination is paused or its circuit open, as this silo knows it now.</param>
    public sealed record Accepted(bool AttemptNow, bool Held) : DeliveryEvent;

    /// <summary>An attempt ended (after its immediate retries, if any): <paramref name="Result"/> is its last try's.</summary>
    public sealed record AttemptFinished(AttemptResult Result) : DeliveryEvent;

    /// <summary>The first attempt found no slot of the destination's limits in time: nothing was attempted.</summary>
    public sealed record AttemptPostponed : DeliveryEvent;

    /// <summary>Its ordering key has an earlier message at its head: it waits, unscheduled, for its release.</summary>
    public sealed record TurnRefused : DeliveryEvent;

    /// <summary>Its ordering key made it the head.</summary>
    public sealed record Released : DeliveryEvent;

    /// <summary>A retry scheduler found it due.</summary>
    /// <param name="Held">The destination is paused or its circuit open, as this silo knows it now.</param>
    /// <param name="TurnTaken">Its ordering key has already answered that it is the head (asked after <see cref="DeliveryEffects.TakeTurn"/>).</param>
    public sealed record Woken(bool Held, bool TurnTaken = false) : DeliveryEvent;

    /// <summary>An operator sends it again, attempts counted afresh.</summary>
    /// <param name="By">Who asked (an operator key's name); null: anonymous.</param>
    /// <param name="Named">The delivery was named explicitly: an InRetry one may be resubmitted too ("try now").</param>
    /// <param name="EditedPayloadBytes">The size of an edited payload; null: the payload is kept.</param>
    /// <param name="Contract">Another contract; null keeps the current one.</param>
    /// <param name="AttemptNow">Make the first new attempt within the call (a single resubmit), or leave it to the scheduler (bulk).</param>
    /// <param name="Held">The destination is paused or its circuit open, as this silo knows it now.</param>
    public sealed record Resubmitted(string? By, bool Named, int? EditedPayloadBytes, string? Contract, bool AttemptNow, bool Held) : DeliveryEvent;

    /// <summary>
    /// The destination answered the delivery on a request of its own, after an attempt that awaited it (an ebXML
    /// partner's <c>POST /ebms</c>): an acknowledgment (<paramref name="Outcome"/> Success) or an error list, classified.
    /// The grain has checked that it is about this delivery as it is now.
    /// </summary>
    /// <param name="Error">The error list in words; null for an acknowledgment.</param>
    /// <param name="Body">The signal as received, for the delivery's response body; null keeps the last one.</param>
    /// <param name="Detail">What it was, for the audit (<c>eb:Acknowledgment of ...</c>).</param>
    public sealed record Acknowledged(AttemptOutcome Outcome, string? Error, string? Body, string Detail) : DeliveryEvent;

    /// <summary>An operator removes a dead letter.</summary>
    public sealed record Discarded(string? By) : DeliveryEvent;

    /// <summary>What the final status owed (<see cref="DeliveryProgress.OwesHandOver"/>) was handed over: the notification stored, the next of the key released.</summary>
    public sealed record HandedOver : DeliveryEvent;

    /// <summary>
    /// The database refused to store the state just decided, for its data (a constraint, a value it cannot hold): the
    /// delivery is parked instead, or it would be refused again at every wake.
    /// </summary>
    /// <param name="Refusal">The database's first line (no row values, no payload).</param>
    /// <param name="Attempt">The refused state's last attempt, when it recorded one.</param>
    public sealed record WriteRefused(string Refusal, RefusedAttempt? Attempt) : DeliveryEvent;
}

/// <summary>An attempt whose outcome could not be stored, as the parked delivery's audit and error name it.</summary>
public sealed record RefusedAttempt(int Attempt, AttemptOutcome? Outcome, int? StatusCode);
