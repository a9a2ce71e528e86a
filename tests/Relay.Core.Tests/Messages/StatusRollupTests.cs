using static Relay.Contracts.DeliveryStatus;

namespace Relay.Core.Tests.Messages;

public class StatusRollupTests
{
    public static TheoryData<DeliveryStatus[], DeliveryStatus> WorstStatusCases => new()
    {
        { [Delivered], Delivered },
        { [Delivered, Delivered], Delivered },
        { [Pending], Pending },
        { [InRetry], InRetry },
        { [DeadLettered], DeadLettered },
        { [Delivered, Pending], Pending },
        { [Delivered, InRetry], InRetry },
        { [Delivered, DeadLettered], DeadLettered },
        { [DeadLettered, Pending], Pending },
        { [DeadLettered, InRetry], InRetry },
        { [Pending, InRetry], InRetry },
        { [Delivered, DeadLettered, Pending, InRetry], InRetry },
        { [Discarded, Delivered], Delivered },
        { [Discarded, DeadLettered], DeadLettered },
        { [Discarded, Pending], Pending },
        { [Discarded, InRetry, Delivered], InRetry },
        { [AwaitingAcknowledgment], AwaitingAcknowledgment },
        { [Delivered, AwaitingAcknowledgment], AwaitingAcknowledgment },
        { [DeadLettered, AwaitingAcknowledgment], AwaitingAcknowledgment },
        { [AwaitingAcknowledgment, Pending], Pending },
        { [AwaitingAcknowledgment, InRetry], InRetry },
        { [Discarded, AwaitingAcknowledgment], AwaitingAcknowledgment },
    };

    [Theory]
    [MemberData(nameof(WorstStatusCases))]
    public void A_message_takes_its_deliveries_worst_status(DeliveryStatus[] deliveries, DeliveryStatus expected)
    {
        Assert.Equal(expected, StatusRollup.MessageStatus(deliveries));
    }

    [Fact]
    public void The_order_of_the_deliveries_does_not_matter()
    {
        DeliveryStatus[] statuses = [Delivered, DeadLettered, Pending, Discarded];

        Assert.Equal(StatusRollup.MessageStatus(statuses), StatusRollup.MessageStatus(statuses.Reverse()));
        Assert.Equal(Pending, StatusRollup.MessageStatus(statuses.Reverse()));
    }

    [Fact]
    public void A_message_whose_deliveries_were_all_discarded_is_settled_as_Delivered_as_the_contract_says()
    {
        // The contract's rule: any InRetry or Pending → that; else any DeadLettered → DeadLettered; else Delivered.
        // Each delivery's own status still says Discarded.
        Assert.Equal(Delivered, StatusRollup.MessageStatus([Discarded, Discarded]));
        // The portal shows an operator what happened to it.
        Assert.Equal(Discarded, StatusRollup.DisplayStatus([Discarded, Discarded]));
        Assert.Equal(Delivered, StatusRollup.DisplayStatus([Discarded, Delivered]));
    }

    [Theory]
    [InlineData(Delivered, true)]
    [InlineData(DeadLettered, true)]
    [InlineData(Discarded, true)]
    [InlineData(Pending, false)]
    [InlineData(InRetry, false)]
    public void Delivered_DeadLettered_and_Discarded_are_final(DeliveryStatus status, bool final)
    {
        Assert.Equal(final, StatusRollup.IsFinal(status));
    }
}
