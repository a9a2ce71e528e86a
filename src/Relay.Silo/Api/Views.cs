using System.Text.Json;
using Relay.Contracts;
using Relay.Core.Messages;
using Relay.Core.Storage;
using Relay.Grains.Delivery;
using Relay.Grains.Messages;

namespace Relay.Silo.Api;

/// <summary>Maps grain views and stored rows to the public shapes of docs/API.md.</summary>
internal static class Views
{
    public static SendResult ToResult(MessageView view) => new()
    {
        Id = view.Id,
        AcceptedAt = view.AcceptedAt,
        Status = StatusRollup.MessageStatus(view.Deliveries.Select(d => d.Status)),
        Deliveries = view.Deliveries.Select(ToResult).ToList(),
    };

    public static DeliveryResult ToResult(DeliveryView d) => new()
    {
        Destination = d.Destination,
        Status = d.Status,
        Attempts = d.Attempts,
        NextAttemptAt = d.NextAttemptAt,
        LastError = d.LastError,
        CompletedAt = d.CompletedAt,
        Response = Response(d.ResponseStatusCode, d.ResponseHeaders, d.ResponseBody),
    };

    public static SendResult ToResult(StoredMessage message, bool withAudit)
    {
        var first = message.Deliveries[0];
        var result = new SendResult
        {
            Id = message.MessageId,
            AcceptedAt = message.Deliveries.Min(d => d.AcceptedAt),
            Status = StatusRollup.MessageStatus(message.Deliveries.Select(d => d.Status)),
            CorrelationId = first.CorrelationId,
            Topic = first.Topic,
            Deliveries = message.Deliveries.Select(d => new DeliveryResult
            {
                Destination = d.Destination,
                Status = d.Status,
                Attempts = d.Attempts,
                NextAttemptAt = d.NextAttemptAt,
                LastError = d.LastError,
                CompletedAt = d.CompletedAt,
                Response = Response(d.ResponseStatusCode,
                    d.ResponseHeadersJson is null ? null : JsonSerializer.Deserialize<Dictionary<string, string>>(d.ResponseHeadersJson),
                    d.ResponseBody),
            }).ToList(),
        };
        if (result.Topic is not null)
        {
            result.Subscribers = result.Deliveries.Select(d => d.Destination).ToList();
        }

        if (withAudit)
        {
            result.Attempts = message.Audit.Where(a => a.Kind == AuditKind.Attempt).Select(a => new AttemptRecord
            {
                At = a.At,
                Destination = a.Destination,
                Attempt = a.Attempt,
                Silo = a.Silo,
                DurationMs = a.DurationMs,
                Outcome = a.Outcome ?? AttemptOutcome.RetryableFailure,
                StatusCode = a.StatusCode,
                Error = a.Error,
                ResponseBody = a.ResponseBody,
            }).ToList();
            result.Events = message.Audit.Where(a => a.Kind != AuditKind.Attempt).Select(a => new OperatorEvent
            {
                At = a.At,
                Destination = a.Destination,
                Action = a.Kind.ToString(),
                By = a.By,
                Detail = a.Detail,
            }).ToList();
        }

        return result;
    }

    /// <summary>200 when every delivery is settled (Delivered, DeadLettered), 202 while any is InRetry, Pending or AwaitingAcknowledgment.</summary>
    public static IResult Answer(SendResult result) =>
        new SendAnswer(result, result.Status is DeliveryStatus.InRetry or DeliveryStatus.Pending or DeliveryStatus.AwaitingAcknowledgment
            ? StatusCodes.Status202Accepted
            : StatusCodes.Status200OK);

    private static DeliveryResponse? Response(int? statusCode, Dictionary<string, string>? headers, string? body) =>
        statusCode is null && body is null ? null : new DeliveryResponse { StatusCode = statusCode, Headers = headers, Body = body };
}
