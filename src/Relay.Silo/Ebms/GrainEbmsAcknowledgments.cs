using Relay.Contracts;
using Relay.Core.Messages;
using Relay.Grains.Delivery;

namespace Relay.Silo.Ebms;

/// <summary>The acknowledgments, handed to the delivery grains.</summary>
internal sealed class GrainEbmsAcknowledgments(IGrainFactory grains) : IEbmsAcknowledgments
{
    public async Task<AcknowledgmentAnswer> AcknowledgeAsync(string messageId, string destination, string ebmsMessageId, AttemptOutcome outcome,
        string? error, string? body)
    {
        var grain = grains.GetGrain<IDeliveryGrain>(new DeliveryKey(destination, messageId).ToString());
        var result = await grain.Acknowledge(new AcknowledgmentCommand { EbmsMessageId = ebmsMessageId, Outcome = outcome, Error = error, Body = body });
        return result switch
        {
            AcknowledgmentResult.Completed => AcknowledgmentAnswer.Completed,
            AcknowledgmentResult.AlreadyFinal => AcknowledgmentAnswer.AlreadyFinal,
            AcknowledgmentResult.NotCurrent => AcknowledgmentAnswer.NotCurrent,
            _ => AcknowledgmentAnswer.Unknown,
        };
    }
}
