using Relay.Contracts;

namespace Relay.Core.Messages;

public static class StatusRollup
{
    /// <summary>
    /// A message's status is its deliveries' worst: any InRetry or Pending → that (InRetry first); else any
    /// AwaitingAcknowledgment (sent, not yet confirmed: not settled either); else any DeadLettered → DeadLettered; else
    /// Delivered: the API's contract, which counts Discarded deliveries as
    /// settled (a message whose deliveries were all discarded is Delivered; each delivery's own status says Discarded).
    /// </summary>
    public static DeliveryStatus MessageStatus(IEnumerable<DeliveryStatus> deliveries)
    {
        ArgumentNullException.ThrowIfNull(deliveries);
        bool inRetry = false, pending = false, awaiting = false, dead = false;
        foreach (var status in deliveries)
        {
            switch (status)
            {
                case DeliveryStatus.InRetry: inRetry = true; break;
                case DeliveryStatus.Pending: pending = true; break;
                case DeliveryStatus.AwaitingAcknowledgment: awaiting = true; break;
                case DeliveryStatus.DeadLettered: dead = true; break;
            }
        }

        if (inRetry) return DeliveryStatus.InRetry;
        if (pending) return DeliveryStatus.Pending;
        if (awaiting) return DeliveryStatus.AwaitingAcknowledgment;
        if (dead) return DeliveryStatus.DeadLettered;
        return DeliveryStatus.Delivered;
    }

    /// <summary>
    /// What the portal shows for a message: <see cref="MessageStatus"/>, except that a message whose deliveries were all
    /// discarded shows Discarded (an operator reading "Delivered" there would be misled; the API keeps the contract's rule).
    /// </summary>
    public static DeliveryStatus DisplayStatus(IReadOnlyCollection<DeliveryStatus> deliveries)
    {
        ArgumentNullException.ThrowIfNull(deliveries);
        return deliveries.Count > 0 && deliveries.All(s => s == DeliveryStatus.Discarded)
            ? DeliveryStatus.Discarded
            : MessageStatus(deliveries);
    }

    public static bool IsFinal(DeliveryStatus status) =>
        status is DeliveryStatus.Delivered or DeliveryStatus.DeadLettered or DeliveryStatus.Discarded;
}
