namespace Relay.Core.Messages;

/// <summary>A send request that passed validation: every name resolved, the payload decoded.</summary>
public sealed record ValidatedMessage
{
    public required string Id { get; init; }
    /// <summary>
    /// The destinations, one delivery each: the named destination, or the topic's subscribers that take the message
    /// (those whose filter it matches; none when it matches no filter).
    /// </summary>
    public required IReadOnlyList<string> Destinations { get; init; }
    public string? Destination { get; init; }
    public string? Topic { get; init; }
    public required byte[] Payload { get; init; }
    public required string ContentType { get; init; }
    public required IReadOnlyDictionary<string, string> Headers { get; init; }
    /// <summary>Contract override; null: each destination's own.</summary>
    public string? Contract { get; init; }
    /// <summary>Explicit notification destination; null: the destination's configured one.</summary>
    public string? Notify { get; init; }
    /// <summary>True when the sender asked for no notification (<c>"notify": "none"</c>).</summary>
    public bool NotifyNone { get; init; }
    public string? OrderingKey { get; init; }
    public string? CorrelationId { get; init; }
    /// <summary>SHA-256 of the content, to tell a repeat of the same message from a different one with the same id.</summary>
    public required string ContentHash { get; init; }
}
