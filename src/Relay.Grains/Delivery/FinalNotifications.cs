using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using Relay.Core.Messages;

namespace Relay.Grains.Delivery;

/// <summary>
/// The hand-over of a delivery's final notification (docs/API.md, "The final notification"): stored as a delivery of its
/// own to the notify destination, with its own contract, retries and audit. Its id is derived from the delivery and its
/// generation, so handing it over twice (after a crash between storing it and clearing the owing flag) stores it once.
/// One per silo; it keeps nothing of a delivery.
/// </summary>
internal sealed partial class FinalNotifications(IGrainFactory grains, ILogger<FinalNotifications> logger)
{
    /// <summary>Stores the notification the final status of <paramref name="state"/> owes, and wakes it.</summary>
    public async Task HandOverAsync(DeliveryState state)
    {
        var envelope = Envelope(state);
        var grain = GrainReferences<IDeliveryGrain>.Get(grains, new DeliveryKey(envelope.Destination, envelope.MessageId).ToString());
        await grain.Accept(envelope, attemptNow: false);
        grain.Wake().Ignore();
        Log.NotificationQueued(logger, state.MessageId, state.Destination, envelope.Destination);
    }

    /// <summary>The notification of <paramref name="state"/>'s final status, as a message to its notify destination.</summary>
    internal static DeliveryEnvelope Envelope(DeliveryState state)
    {
        var payload = JsonSerializer.SerializeToUtf8Bytes(new FinalNotification
        {
            Id = state.MessageId,
            Destination = state.Destination,
            Status = state.Status.ToString(),
            Attempts = state.Attempts,
            CompletedAt = state.CompletedAt,
            Response = state.ResponseStatusCode is { } code ? new FinalNotificationResponse { StatusCode = code } : null,
            LastError = state.LastError,
            CorrelationId = state.CorrelationId,
        }, FinalNotificationJson.Default.FinalNotification);
        return new DeliveryEnvelope
        {
            MessageId = NotificationId(state.Destination, state.Generation, state.MessageId),
            Destination = state.Notify ?? throw new InvalidOperationException($"The delivery {state.Key} names no notify destination."),
            Payload = payload,
            ContentType = "application/json",
            Headers = [],
            CorrelationId = state.CorrelationId,
            ContentHash = Convert.ToHexString(SHA256.HashData(payload)),
            AcceptedAt = state.CompletedAt ?? state.UpdatedAt,
            IsNotification = true,
            // The notification's attempts are spans of the message's trace too.
            TraceParent = state.TraceParent,
        };
    }

    /// <summary>Ids starting with '~' are refused from senders, so these never collide with theirs.</summary>
    internal static string NotificationId(string destination, int generation, string messageId) =>
        $"~notify:{destination}:{generation}:{messageId}";

    private static partial class Log
    {
        [LoggerMessage(EventId = 1008, Level = LogLevel.Debug, Message = "Message {MessageId} to {Destination}: final notification queued for {Notify}")]
        public static partial void NotificationQueued(ILogger logger, string messageId, string destination, string notify);
    }
}

/// <summary>The JSON a notify destination receives (docs/API.md, "The final notification").</summary>
internal sealed class FinalNotification
{
    public required string Id { get; init; }
    public required string Destination { get; init; }
    public required string Status { get; init; }
    public int Attempts { get; init; }
    public DateTimeOffset? CompletedAt { get; init; }
    public FinalNotificationResponse? Response { get; init; }
    public string? LastError { get; init; }
    public string? CorrelationId { get; init; }
}

internal sealed class FinalNotificationResponse
{
    public int StatusCode { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(FinalNotification))]
internal sealed partial class FinalNotificationJson : JsonSerializerContext;
