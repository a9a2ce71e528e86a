using System.Runtime.Serialization;
using System.ServiceModel;

namespace Relay.Contracts;

/// <summary>
/// The SOAP front door of every silo (<c>/Messaging.svc</c>, SOAP 1.1, <c>BasicHttpBinding</c>). An application
/// references this assembly and calls Relay with <c>ChannelFactory&lt;IMessagingService&gt;</c>; the silo serves
/// the same interface. Both operations answer what the JSON API answers, through the same code path.
/// </summary>
/// <remarks>
/// Bad input (unknown destination, empty or oversized payload, an id reused with other content) is answered with
/// a SOAP fault whose code is <c>Client</c> and whose reason says what to change; nothing is stored. When Relay
/// cannot confirm a request (storage or cluster unavailable) the fault code is <c>Server</c>: sending the same
/// request again is safe, a message id is never stored twice. Either fault carries a <see cref="RelayFault"/>
/// detail, so a WCF client catches <c>FaultException&lt;RelayFault&gt;</c> and can tell the cases apart by
/// <see cref="RelayFault.StatusCode"/>, the status the JSON API answers for the same input.
/// </remarks>
[ServiceContract(Name = "IMessagingService", Namespace = RelayNamespaces.Messaging)]
public interface IMessagingService
{
    /// <summary>
    /// Stores the message durably and makes the first attempt of each delivery, as <c>POST /messages</c>.
    /// The answer's status is <c>Delivered</c> or <c>DeadLettered</c> when every delivery is settled,
    /// <c>InRetry</c> or <c>Pending</c> otherwise.
    /// </summary>
    [OperationContract(Name = "Send", Action = RelayNamespaces.Messaging + "/IMessagingService/Send",
        ReplyAction = RelayNamespaces.Messaging + "/IMessagingService/SendResponse")]
    [FaultContract(typeof(RelayFault), Action = RelayFault.Action, Name = nameof(RelayFault), Namespace = RelayNamespaces.Messaging)]
    Task<SendResult> SendAsync(SendRequest request);

    /// <summary>The message's state with its audit trail, as <c>GET /messages/{id}</c>; an unknown id is a <c>Client</c> fault.</summary>
    [OperationContract(Name = "GetStatus", Action = RelayNamespaces.Messaging + "/IMessagingService/GetStatus",
        ReplyAction = RelayNamespaces.Messaging + "/IMessagingService/GetStatusResponse")]
    [FaultContract(typeof(RelayFault), Action = RelayFault.Action, Name = nameof(RelayFault), Namespace = RelayNamespaces.Messaging)]
    Task<SendResult> GetStatusAsync(string id);
}

/// <summary>The detail of every fault of <see cref="IMessagingService"/>: what the JSON API would answer as problem+json.</summary>
[DataContract(Name = "RelayFault", Namespace = RelayNamespaces.Messaging)]
public sealed class RelayFault
{
    /// <summary>The SOAP action of Relay's faults.</summary>
    public const string Action = RelayNamespaces.Messaging + "/IMessagingService/RelayFault";

    /// <summary>The HTTP status the JSON API answers for the same case: 400, 404, 409, 413, 503...</summary>
    [DataMember(Order = 0)] public int StatusCode { get; set; }
    /// <summary>What went wrong, in words a person can act on (also the fault's reason).</summary>
    [DataMember(Order = 1)] public string Title { get; set; } = "";
    [DataMember(Order = 2, EmitDefaultValue = false)] public string? Detail { get; set; }
}
