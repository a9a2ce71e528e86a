using Orleans.Concurrency;

namespace Relay.Grains.Delivery;

/// <summary>One delivery: one message on its way to one destination. Keyed by <c>destination/messageId</c>.</summary>
public interface IDeliveryGrain : IGrainWithStringKey
{
    /// <summary>
    /// Stores the delivery durably, then (with <paramref name="attemptNow"/>) makes its first attempt
    /// bounded by the destination's SyncTimeout. Accepting an already stored delivery with the same
    /// content answers its state and sends nothing; with other content it is a conflict.
    /// </summary>
    Task<DeliveryView> Accept(DeliveryEnvelope envelope, bool attemptNow);

    /// <summary>Called by the retry scheduler when the delivery is due: attempts it, or hands over its notification.</summary>
    Task Wake();

    /// <summary>
    /// The one attempt a half-open circuit lets through: attempts now, whatever the hold and the schedule, and
    /// reports to the destination control whether the destination answered.
    /// </summary>
    Task Probe();

    /// <summary>Its ordering key made it the head: it may be attempted now.</summary>
    Task Release();

    /// <summary>Sends a dead-lettered delivery again, with attempts counted afresh, optionally edited.</summary>
    Task<DeliveryView> Resubmit(ResubmitCommand command);

    /// <summary>Moves a dead-lettered delivery to Discarded.</summary>
    Task<DeliveryView> Discard(string? by);

    /// <summary>
    /// What the delivery carries (payload, content type, headers, contract), for an operator to read; changes nothing.
    /// Null for a delivery that was never accepted.
    /// </summary>
    [ReadOnly]
    Task<DeliveryContent?> GetContent();
}
