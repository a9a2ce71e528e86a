using Relay.Contracts;

namespace Relay.Core.Messages;

public static class StatusRollup
{
    /// <summary>
    /// A message's status is its deliveries' worst: any InRetry or Pending → that (InRetry first);
    /// else any DeadLettered → DeadLettered; else Delivered (Discarded deliveries count as settled).
    /// </summary>
    public static DeliveryStatus MessageStatus(IEnumerable<DeliveryStatus> deliveries)
    {
        ArgumentNullException.ThrowIfNull(deliveries);
        bool inRetry = false, pending = false, dead = false, delivered = false, discarded = false;
        foreach (var status in deliveries)
        {
            switch (status)
            {
                case DeliveryStatus.InRetry: inRetry = true; break;
                case DeliveryStatus.Pending: pending = true; break;
                case DeliveryStatus.DeadLettered: dead = true; break;
                case DeliveryStatus.Delivered: delivered = true; break;
                case DeliveryStatus.Discarded: discarded = true; break;
            }
        }

        if (inRetry) return DeliveryStatus.InRetry;
        if (pending) return DeliveryStatus.Pending;
        if (dead) return DeliveryStatus.DeadLettered;
        if (discarded && !delivered) return DeliveryStatus.Discarded;
        return DeliveryStatus.Delivered;
    }

    public static bool IsFinal(DeliveryStatus status) =>
        status is DeliveryStatus.Delivered or DeliveryStatus.DeadLettered or DeliveryStatus.Discarded;
}
