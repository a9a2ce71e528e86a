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

    /// <summary>
    /// The destination's acknowledgment (or error list) of the delivery, which came on a request of its own (an ebXML
    /// partner's <c>POST /ebms</c>): completes it when <see cref="AcknowledgmentCommand.EbmsMessageId"/> is its current
    /// MessageId and it is not final yet; otherwise answers why not and changes nothing.
    /// </summary>
    Task<AcknowledgmentResult> Acknowledge(AcknowledgmentCommand command);

    /// <summary>Moves a dead-lettered delivery to Discarded.</summary>
    Task<DeliveryView> Discard(string? by);

    /// <summary>
    /// What the delivery carries (payload, content type, headers, contract), for an operator to read; changes nothing.
    /// Null for a delivery that was never accepted.
    /// </summary>
    [ReadOnly]
    Task<DeliveryContent?> GetContent();
}
