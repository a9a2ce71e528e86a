using Relay.Grains.Delivery;

namespace Relay.Grains.Messages;

/// <summary>
/// The entry point of a send, keyed by message id. It serializes sends of one id across the cluster
/// (idempotency), fans a message out into one delivery per destination, and answers their states.
/// It keeps no state of its own: the deliveries are the durable record.
/// </summary>
public interface IMessageGrain : IGrainWithStringKey
{
    Task<MessageView> Send(SendCommand command);
}

/// <summary>A validated send request.</summary>
[GenerateSerializer, Immutable]
public sealed record SendCommand
{
    [Id(0)] public required string Id { get; init; }
    [Id(1)] public required string[] Destinations { get; init; }
    [Id(2)] public string? Topic { get; init; }
    [Id(3)] public required byte[] Payload { get; init; }
    [Id(4)] public required string ContentType { get; init; }
    [Id(5)] public required Dictionary<string, string> Headers { get; init; }
    [Id(6)] public string? Contract { get; init; }
    [Id(7)] public string? Notify { get; init; }
    [Id(8)] public bool NotifyNone { get; init; }
    [Id(9)] public string? OrderingKey { get; init; }
    [Id(10)] public string? CorrelationId { get; init; }
    [Id(11)] public required string ContentHash { get; init; }
    /// <summary>The name of the sender key that sent it; null when no keys are configured.</summary>
    [Id(12)] public string? Sender { get; init; }
    /// <summary>The W3C <c>traceparent</c> the deliveries' attempts join; null: none.</summary>
    [Id(13)] public string? TraceParent { get; init; }

    /// <summary>Ids only: Orleans traces messages with ToString, and payloads and headers must not reach logs.</summary>
    public override string ToString() => $"SendCommand {{ {Id} to {string.Join(", ", Destinations)} }}";
}

[GenerateSerializer, Immutable]
public sealed record MessageView
{
    [Id(0)] public required string Id { get; init; }
    [Id(1)] public required DateTimeOffset AcceptedAt { get; init; }
    [Id(2)] public required DeliveryView[] Deliveries { get; init; }
    /// <summary>True when this send repeated an earlier one with the same id and content.</summary>
    [Id(3)] public bool Repeated { get; init; }

    public override string ToString() => $"MessageView {{ {Id}: {string.Join(", ", Deliveries.Select(d => d.ToString()))} }}";
}
