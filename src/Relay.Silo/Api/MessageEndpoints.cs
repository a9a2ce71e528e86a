using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using Relay.Contracts;
using Relay.Core.Messages;
using Relay.Core.Options;
using Relay.Core.Storage;
using Relay.Silo.Messaging;
using Relay.Silo.Security;

namespace Relay.Silo.Api;

/// <summary><c>POST /messages</c>, <c>GET /messages/{id}</c>, <c>GET /messages</c>.</summary>
internal static class MessageEndpoints
{
    internal static readonly JsonSerializerOptions RequestJson = new(JsonSerializerDefaults.Web)
    {
        // Statuses by name only: "status": 3 is refused, as ?status=3 is.
        Converters = { new JsonStringEnumConverter(namingPolicy: null, allowIntegerValues: false) },
        AllowTrailingCommas = false,
        MaxDepth = 16,
    };

    public static IEndpointRouteBuilder MapMessageEndpoints(this IEndpointRouteBuilder app)
    {
        // Senders send and read their own; listing is for operators (the fallback policy).
        app.MapPost("/messages", SendAsync).RequireAuthorization(RelayAuth.SenderPolicy)
            .WithName("SendMessage")
            .WithTags(ApiReference.MessagesTag)
            .WithSummary("Send a message")
            .WithDescription("Stores the message durably, then makes the first attempt of each delivery within the request, bounded by the "
                + "destination's SyncTimeout. 200 when every delivery is settled (Delivered, or DeadLettered by a non-retryable error), "
                + "202 while any is InRetry or Pending. The same id with the same content answers the existing state and sends nothing "
                + "new; the same id with other content answers 409. Bad input is refused whole: nothing is stored, nothing is sent.")
            .AcceptsJsonBody<SendRequest>(required: true)
            .Produces<SendResult>(StatusCodes.Status200OK)
            .Produces<SendResult>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        app.MapGet("/messages/{id}", GetAsync).RequireAuthorization(RelayAuth.SenderPolicy)
            .WithName("GetMessage")
            .WithTags(ApiReference.MessagesTag)
            .WithSummary("A message's status, its deliveries and its audit trail")
            .WithDescription("A sender key reads only the messages it sent: another sender's answers 404, as an unknown id does.")
            .Produces<SendResult>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        app.MapGet("/messages", ListAsync)
            .WithName("ListMessages")
            .WithTags(ApiReference.OperatingTag)
            .WithSummary("Messages, newest first, filtered by status and destination")
            .WithDescription("A filter on status or destination matches a message by any of its deliveries. Items carry no audit trail; "
                + "'next' is the cursor of the following page, null on the last.")
            .WithQueryParameter("status", "Pending, InRetry, Delivered, DeadLettered or Discarded.")
            .WithQueryParameter("destination", "A destination name.")
            .WithQueryParameter("limit", "1 to 1000; default 100.")
            .WithQueryParameter("cursor", "The 'next' of the previous page, as it is.")
            .Produces<MessagePage>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    private static async Task<IResult> SendAsync(HttpContext http, MessageService messages)
    {
        var (request, problem) = await ReadJsonAsync<SendRequest>(http);
        if (problem is not null)
        {
            return problem;
        }

        var outcome = await messages.SendAsync(request, http.User.Caller() ?? RelayPrincipal.Anonymous);
        return outcome.Error is { } error ? Problems.From(error) : Views.Answer(outcome.Result!);
    }

    private static async Task<IResult> GetAsync(string id, HttpContext http, MessageService messages, CancellationToken cancellationToken)
    {
        var outcome = await messages.GetAsync(PathIds.FromRoute(http, id), withAudit: true, http.User.Caller() ?? RelayPrincipal.Anonymous, cancellationToken);
        return outcome.Error is { } error ? Problems.From(error) : Results.Json(outcome.Result);
    }

    private static async Task<IResult> ListAsync(HttpContext http, IRelayStore store, ILogger<SendRequest> logger, CancellationToken cancellationToken)
    {
        var query = http.Request.Query;
        DeliveryStatus? status = null;
        if (query.TryGetValue("status", out var statusText) && !string.IsNullOrEmpty(statusText))
        {
            if (!Enum.TryParse<DeliveryStatus>(statusText, ignoreCase: true, out var parsed) || int.TryParse(statusText, out _))
            {
                return Problems.Of(400, $"Unknown status '{statusText}'.", "One of: Pending, Delivered, InRetry, DeadLettered, Discarded.");
            }

            status = parsed;
        }

        var limit = 100;
        if (query.TryGetValue("limit", out var limitText) && !string.IsNullOrEmpty(limitText)
            && (!int.TryParse(limitText, out limit) || limit is < 1 or > 1000))
        {
            return Problems.Of(400, "'limit' must be a whole number from 1 to 1000.");
        }

        var destination = query.TryGetValue("destination", out var d) && !string.IsNullOrEmpty(d) ? d.ToString() : null;
        var cursor = query.TryGetValue("cursor", out var c) && !string.IsNullOrEmpty(c) ? c.ToString() : null;
        return await Problems.Guard(logger, null, async () =>
        {
            StoredMessagePage page;
            try
            {
                page = await store.ListMessagesAsync(new MessageQuery { Status = status, Destination = destination, Limit = limit, Cursor = cursor }, cancellationToken);
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException)
            {
                return Problems.Of(400, "'cursor' is not a cursor this API gave.", "Use the 'next' value of the previous page as it is.");
            }

            return Results.Json(new MessagePage
            {
                Items = page.Items.Select(m => Views.ToResult(m, withAudit: false)).ToList(),
                Next = page.NextCursor,
            });
        });
    }

    /// <summary>
    /// Reads a JSON body; a missing or malformed body, or one over the size limit, is a problem, and so is a body that is
    /// not declared <c>application/json</c> (415): a web page can send text/plain or a form to any address without
    /// asking, but JSON only where CORS lets it.
    /// </summary>
    internal static async Task<(T? Value, IResult? Problem)> ReadJsonAsync<T>(HttpContext http, bool allowEmpty = false)
        where T : class
    {
        var noBody = http.Request.ContentLength is 0
            || http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestBodyDetectionFeature>() is { CanHaveBody: false };
        if (http.Request.ContentType is not null ? !IsJson(http.Request.ContentType) : !(allowEmpty && noBody))
        {
            return (null, Problems.Of(StatusCodes.Status415UnsupportedMediaType, "The body must be sent as 'Content-Type: application/json'.",
                http.Request.ContentType is null ? "The request has no Content-Type." : "Other media types (text/plain, forms) are refused."));
        }

        try
        {
            if (allowEmpty && noBody)
            {
                return (null, null);
            }

            var value = await JsonSerializer.DeserializeAsync<T>(http.Request.Body, RequestJson, http.RequestAborted);
            return (value, null);
        }
        catch (JsonException ex)
        {
            if (allowEmpty && ex.BytePositionInLine == 0 && ex.LineNumber == 0 && ex.Path == "$")
            {
                return (null, null);
            }

            return (null, Problems.Of(400, "The body is not valid JSON for this request.", ex.Message));
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, Problems.Of(413, "The request body is too large.", "Send a smaller payload, or raise Relay:Limits:MaxPayloadBytes."));
        }
    }

    /// <summary><c>application/json</c> or a <c>+json</c> type of it (<c>application/vnd.x+json</c>), with any parameters.</summary>
    /// <remarks>The two spellings clients send (HttpClient's JsonContent sends the second) are known without parsing them.</remarks>
    internal static bool IsJson(string contentType) =>
        contentType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
        || contentType.Equals("application/json; charset=utf-8", StringComparison.OrdinalIgnoreCase)
        || System.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var parsed) && parsed.MediaType is { } type
        && (type.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || (type.StartsWith("application/", StringComparison.OrdinalIgnoreCase) && type.EndsWith("+json", StringComparison.OrdinalIgnoreCase)));
}
