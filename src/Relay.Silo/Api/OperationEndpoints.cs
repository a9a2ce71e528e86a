using Relay.Contracts;
using Relay.Grains.Operations;
using Relay.Silo.Operating;

namespace Relay.Silo.Api;

/// <summary>
/// Bulk operations: resubmit or discard every delivery a filter matches, as background jobs with progress and cancel
/// (<c>/operations</c>); <c>POST /messages/resubmit</c> and <c>/messages/discard</c> start one.
/// </summary>
internal static class OperationEndpoints
{
    /// <summary>The preference (RFC 7240) that makes a bulk request answer 202 at once instead of when the operation ends.</summary>
    public const string RespondAsync = "respond-async";

    public static IEndpointRouteBuilder MapOperationEndpoints(this IEndpointRouteBuilder app)
    {
        // No policy named: the fallback policy makes every one of these an operator's.
        var messages = app.MapGroup("").WithTags(ApiReference.OperatingTag);
        messages.MapPost("/messages/discard", BulkDiscardAsync)
            .WithName("DiscardMessages")
            .WithSummary("Discard every dead letter (of a destination)")
            .WithDescription("Every DeadLettered delivery, optionally of one destination, becomes Discarded, by a bulk operation. "
                + "Answers when it has ended with how many were discarded and the operation's id; with 'Prefer: respond-async', "
                + "answers 202 at once with the operation and its Location (GET /operations/{id}).")
            .AcceptsJsonBody<BulkDiscardRequest>(required: false)
            .Produces<BulkDiscardResult>()
            .Produces<OperationView>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        var operations = app.MapGroup("/operations").WithTags(ApiReference.OperatingTag);
        operations.MapGet("", ListAsync)
            .WithName("ListOperations")
            .WithSummary("The recent bulk operations, newest first")
            .WithQueryParameter("limit", "How many (1 to 200, default 50).")
            .Produces<OperationList>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        operations.MapGet("/{id}", GetAsync)
            .WithName("GetOperation")
            .WithSummary("A bulk operation and its progress")
            .WithDescription("State Running, Completed, Cancelled or Failed; total (matched when it started), done, skipped (moved on meanwhile), failed.")
            .Produces<OperationView>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        operations.MapPost("/{id}/cancel", CancelAsync)
            .WithName("CancelOperation")
            .WithSummary("Cancel a running bulk operation")
            .WithDescription("It stops before its next step (what it did stays done). Answers the operation; 409 when it had already ended.")
            .Produces<OperationView>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    /// <summary>
    /// Starts a bulk operation; answers 202 with it when the request prefers <c>respond-async</c>, otherwise waits for its
    /// end and answers <paramref name="counted"/> of it (the endpoint's own shape), or 503 when it failed.
    /// </summary>
    public static Task<IResult> StartAsync(HttpContext http, OperatorActions actions, ILogger logger, BulkAction action, BulkFilter filter,
        Func<BulkOperationView, object> counted) =>
        Problems.Guard(logger, null, async () =>
        {
            var operation = await actions.StartBulkAsync(action, filter, OperatorEndpoints.Operator(http));
            if (PrefersAsync(http.Request))
            {
                http.Response.Headers["Preference-Applied"] = RespondAsync;
                return Results.Accepted(Location(operation.Id), ToView(operation));
            }

            // The request waits; if it is given up, the operation goes on.
            var ended = await actions.WaitAsync(operation, http.RequestAborted);
            http.Response.Headers.Location = Location(ended.Id);
            return ended.Status == BulkOperationStatus.Failed
                ? Problems.Of(503, $"The bulk operation stopped after {ended.Done} of {ended.Total}: {ended.Error}",
                    $"See {Location(ended.Id)}; what it did stays done, and starting it again goes on with the rest.")
                : Results.Json(counted(ended));
        });

    public static string Location(string id) => "/operations/" + id;

    internal static bool PrefersAsync(HttpRequest request) =>
        request.Headers["Prefer"].SelectMany(v => (v ?? "").Split(',', StringSplitOptions.TrimEntries))
            .Any(p => p.Split(';')[0].Trim().Equals(RespondAsync, StringComparison.OrdinalIgnoreCase));

    private static async Task<IResult> BulkDiscardAsync(HttpContext http, OperatorActions actions, ILogger<BulkDiscardRequest> logger)
    {
        var (request, problem) = await MessageEndpoints.ReadJsonAsync<BulkDiscardRequest>(http, allowEmpty: true);
        if (problem is not null)
        {
            return problem;
        }

        request ??= new BulkDiscardRequest();
        var filter = new BulkFilter { Status = request.Status ?? DeliveryStatus.DeadLettered, Destination = request.Destination };
        return await StartAsync(http, actions, logger, BulkAction.Discard, filter,
            ended => new BulkDiscardResult { Discarded = ended.Done, Operation = ended.Id, Skipped = ended.Skipped, Failed = ended.Failed });
    }

    private static async Task<IResult> ListAsync(HttpContext http, OperatorActions actions, ILogger<OperationList> logger)
    {
        var limit = 50;
        var text = http.Request.Query["limit"].ToString();
        if (text.Length > 0 && (!int.TryParse(text, out limit) || limit is < 1 or > BulkOperationIndexLimit))
        {
            return Problems.Of(400, $"'limit' must be a number from 1 to {BulkOperationIndexLimit}.");
        }

        return await Problems.Guard(logger, null, async () =>
            Results.Json(new OperationList { Items = (await actions.RecentOperationsAsync(limit)).Select(ToView).ToList() }));
    }

    private static async Task<IResult> GetAsync(string id, OperatorActions actions, ILogger<OperationList> logger) =>
        await Problems.Guard(logger, null, async () =>
            await actions.GetOperationAsync(id) is { } operation
                ? Results.Json(ToView(operation))
                : Problems.Of(404, $"No bulk operation with id '{id}'."));

    private static async Task<IResult> CancelAsync(string id, HttpContext http, OperatorActions actions, ILogger<OperationList> logger) =>
        await Problems.Guard(logger, null, async () =>
        {
            var before = await actions.GetOperationAsync(id);
            if (before is null)
            {
                return Problems.Of(404, $"No bulk operation with id '{id}'.");
            }

            if (!before.IsRunning)
            {
                return Problems.Of(409, $"The bulk operation '{id}' has already ended ({before.Status}).", "Only a running operation can be cancelled.");
            }

            var after = await actions.CancelOperationAsync(id, OperatorEndpoints.Operator(http));
            return Results.Json(ToView(after!));
        });

    private const int BulkOperationIndexLimit = 200;

    internal static OperationView ToView(BulkOperationView operation) => new()
    {
        Id = operation.Id,
        Action = operation.Action == BulkAction.Discard ? OperationAction.Discard : OperationAction.Resubmit,
        State = operation.Status switch
        {
            BulkOperationStatus.Completed => OperationState.Completed,
            BulkOperationStatus.Cancelled => OperationState.Cancelled,
            BulkOperationStatus.Failed => OperationState.Failed,
            _ => OperationState.Running,
        },
        Filter = new OperationFilter
        {
            Status = operation.Filter.Status,
            Destination = operation.Filter.Destination,
            Topic = operation.Filter.Topic,
            AcceptedFrom = operation.Filter.AcceptedFrom,
            AcceptedTo = operation.Filter.AcceptedTo,
            IdContains = operation.Filter.IdContains,
        },
        Total = operation.Total,
        Done = operation.Done,
        Skipped = operation.Skipped,
        Failed = operation.Failed,
        By = operation.By,
        CreatedAt = operation.CreatedAt,
        UpdatedAt = operation.UpdatedAt,
        CompletedAt = operation.CompletedAt,
        CancelledBy = operation.CancelledBy,
        Error = operation.Error,
    };
}
