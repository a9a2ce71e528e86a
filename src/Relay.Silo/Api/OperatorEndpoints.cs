using System.Text;
using Microsoft.Extensions.Options;
using Relay.Contracts;
using Relay.Core.Messages;
using Relay.Core.Options;
using Relay.Core.Storage;
using Relay.Grains.Delivery;
using Relay.Grains.Destinations;
using Relay.Grains.Operations;
using Relay.Silo.Operating;

namespace Relay.Silo.Api;

/// <summary>What operators do with failed deliveries: resubmit (edited or not), discard; and the destinations overview.</summary>
internal static class OperatorEndpoints
{
    public static IEndpointRouteBuilder MapOperatorEndpoints(this IEndpointRouteBuilder app)
    {
        // No policy named: the fallback policy makes every one of these an operator's.
        var messages = app.MapGroup("").WithTags(ApiReference.OperatingTag);
        messages.MapPost("/messages/resubmit", BulkResubmitAsync)
            .WithName("ResubmitMessages")
            .WithSummary("Resubmit every delivery of a status (and destination)")
            .WithDescription("Every DeadLettered delivery (the default), or every InRetry one (\"retry now\"), optionally of one destination, "
                + "by a bulk operation that walks them once; the retry schedulers make the attempts. Answers when it has ended with how many "
                + "were resubmitted and the operation's id; with 'Prefer: respond-async', answers 202 at once with the operation and its "
                + "Location (GET /operations/{id}).")
            .AcceptsJsonBody<BulkResubmitRequest>(required: false)
            .Produces<BulkResubmitResult>()
            .Produces<OperationView>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        messages.MapPost("/messages/{id}/resubmit", ResubmitAsync)
            .WithName("ResubmitMessage")
            .WithSummary("Resubmit one message's dead-lettered deliveries, optionally edited")
            .WithDescription("Every DeadLettered delivery of the message, or only the one to 'destination' (which may then also be InRetry: "
                + "\"try now\"). Attempts are counted afresh and the first new one is made within the request; the edit and who made it go "
                + "into the audit. A Delivered delivery is never sent again. Every field of the body is optional; the body may be empty "
                + "(a body needs Content-Type: application/json).")
            .AcceptsJsonBody<ResubmitRequest>(required: false)
            .Produces<SendResult>(StatusCodes.Status200OK)
            .Produces<SendResult>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        messages.MapPost("/messages/{id}/discard", DiscardAsync)
            .WithName("DiscardMessage")
            .WithSummary("Discard a message's dead-lettered deliveries")
            .WithDescription("DeadLettered → Discarded, for every dead-lettered delivery of the message or only the one to '?destination='.")
            .WithQueryParameter("destination", "Only the delivery to this destination.")
            .Produces<SendResult>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        var destinations = app.MapGroup("/destinations").WithTags(ApiReference.DestinationsTag);
        destinations.MapGet("", DestinationsAsync)
            .WithName("ListDestinations")
            .WithSummary("Every configured destination: holds and deliveries by status")
            .Produces<DestinationList>()
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        destinations.MapPost("/{name}/pause", (string name, HttpContext http, OperatorActions actions, IOptions<RelayOptions> options, ILogger<ResubmitRequest> logger) =>
                ControlAsync(name, http, actions, options, logger, (a, by) => a.SetPausedAsync(name, paused: true, by)))
            .WithName("PauseDestination")
            .WithSummary("Pause a destination")
            .WithDescription("No attempt goes to it; new messages are stored and answered 202 Pending; retries wait, not counted against MaxAttempts. "
                + "The answer carries the destination's holds and its deliveries' counts, as GET /destinations does.")
            .Produces<DestinationState>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        destinations.MapPost("/{name}/resume", (string name, HttpContext http, OperatorActions actions, IOptions<RelayOptions> options, ILogger<ResubmitRequest> logger) =>
                ControlAsync(name, http, actions, options, logger, (a, by) => a.SetPausedAsync(name, paused: false, by)))
            .WithName("ResumeDestination")
            .WithSummary("Resume a paused destination")
            .WithDescription("Waiting deliveries are sent, paced by MaxPerSecond. The answer is the destination's state, as for pause.")
            .Produces<DestinationState>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        destinations.MapPost("/{name}/circuit", async (string name, HttpContext http, OperatorActions actions, IOptions<RelayOptions> options, ILogger<ResubmitRequest> logger) =>
            {
                var (request, problem) = await MessageEndpoints.ReadJsonAsync<CircuitRequest>(http);
                if (problem is not null)
                {
                    return problem;
                }

                if (request?.State is not (CircuitState.Open or CircuitState.Closed))
                {
                    return Problems.Of(400, "Give \"state\": \"Open\" or \"Closed\".", "Open holds every attempt back until closed by hand; Closed lets them go.");
                }

                return await ControlAsync(name, http, actions, options, logger, (a, by) => a.SetCircuitAsync(name, request.State.Value, by));
            })
            .WithName("SetDestinationCircuit")
            .WithSummary("Open or close a destination's circuit by hand")
            .WithDescription("\"Open\": attempts are held back until closed by hand (no probe). \"Closed\": released at once. The answer is the destination's state, as for pause.")
            .AcceptsJsonBody<CircuitRequest>(required: true)
            .Produces<DestinationState>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    private static async Task<IResult> ResubmitAsync(string id, HttpContext http, OperatorActions actions, ILogger<ResubmitRequest> logger)
    {
        id = PathIds.FromRoute(http, id);
        var (request, problem) = await MessageEndpoints.ReadJsonAsync<ResubmitRequest>(http, allowEmpty: true);
        if (problem is not null)
        {
            return problem;
        }

        request ??= new ResubmitRequest();
        byte[]? payload = null;
        if (request.Payload is not null && request.PayloadBase64 is not null)
        {
            return Problems.Of(400, "Give either 'payload' or 'payloadBase64', not both.");
        }

        if (request.PayloadBase64 is not null)
        {
            try
            {
                payload = Convert.FromBase64String(request.PayloadBase64);
            }
            catch (FormatException)
            {
                return Problems.Of(400, "'payloadBase64' is not valid base64.");
            }
        }
        else if (request.Payload is not null)
        {
            payload = Encoding.UTF8.GetBytes(request.Payload);
        }

        return await Problems.Guard(logger, id, async () =>
        {
            var after = await actions.ResubmitAsync(id, request.Destination, payload, request.Contract, Operator(http), http.RequestAborted);
            return Views.Answer(Views.ToResult(after, withAudit: false));
        });
    }

    private static async Task<IResult> BulkResubmitAsync(HttpContext http, OperatorActions actions, ILogger<BulkResubmitRequest> logger)
    {
        var (request, problem) = await MessageEndpoints.ReadJsonAsync<BulkResubmitRequest>(http, allowEmpty: true);
        if (problem is not null)
        {
            return problem;
        }

        request ??= new BulkResubmitRequest();
        var filter = new BulkFilter { Status = request.Status ?? DeliveryStatus.DeadLettered, Destination = request.Destination };
        return await OperationEndpoints.StartAsync(http, actions, logger, BulkAction.Resubmit, filter,
            ended => new BulkResubmitResult { Resubmitted = ended.Done, Operation = ended.Id, Skipped = ended.Skipped, Failed = ended.Failed });
    }

    private static async Task<IResult> DiscardAsync(string id, HttpContext http, OperatorActions actions, ILogger<ResubmitRequest> logger)
    {
        id = PathIds.FromRoute(http, id);
        var destination = http.Request.Query["destination"].ToString();
        return await Problems.Guard(logger, id, async () =>
        {
            var after = await actions.DiscardAsync(id, destination.Length == 0 ? null : destination, Operator(http), http.RequestAborted);
            return Results.Json(Views.ToResult(after, withAudit: false));
        });
    }

    private static async Task<IResult> ControlAsync(string name, HttpContext http, OperatorActions actions, IOptions<RelayOptions> options,
        ILogger logger, Func<OperatorActions, string, Task<DestinationHolds>> action)
    {
        if (!options.Value.Destinations.ContainsKey(name))
        {
            return Problems.Of(404, $"Unknown destination '{name}'.");
        }

        return await Problems.Guard(logger, null, async () =>
        {
            var holds = await action(actions, Operator(http));
            var counts = await http.RequestServices.GetRequiredService<IRelayStore>().CountByDestinationAsync(http.RequestAborted);
            return Results.Json(Describe(name, options.Value.Destinations[name], holds, counts));
        });
    }

    internal static DestinationState Describe(string name, DestinationOptions destination, DestinationHolds holds, IReadOnlyList<DestinationCount> counts)
    {
        long Count(DeliveryStatus s) => counts.Where(c => c.Destination == name && c.Status == s).Sum(c => c.Count);
        var hold = holds.ByDestination.GetValueOrDefault(name);
        return new DestinationState
        {
            Name = name,
            Protocol = destination.Protocol,
            Contract = destination.Contract ?? RelayOptions.DefaultContractName,
            Paused = hold?.Paused ?? false,
            Circuit = hold?.Circuit ?? CircuitState.Closed,
            OpenUntil = hold?.OpenUntil,
            HoldReason = hold?.Reason,
            ConfigurationError = hold?.ConfigurationError,
            Auth = destination is Relay.Adapters.Http.HttpTransportDestinationOptions { Auth.Kind: not Relay.Adapters.Http.HttpAuthKind.None } http ? http.Auth.Kind.ToString() : null,
            ClientCertificate = destination is Relay.Adapters.Http.HttpTransportDestinationOptions { ClientCertificate: not null },
            MaxPerSecond = destination.MaxPerSecond,
            FailureThreshold = destination.FailureThreshold,
            Pending = Count(DeliveryStatus.Pending),
            InRetry = Count(DeliveryStatus.InRetry),
            DeadLettered = Count(DeliveryStatus.DeadLettered),
            Delivered = Count(DeliveryStatus.Delivered),
            Discarded = Count(DeliveryStatus.Discarded),
        };
    }

    private static async Task<IResult> DestinationsAsync(IRelayStore store, DestinationControl control, IOptions<RelayOptions> options, ILogger<ResubmitRequest> logger, CancellationToken cancellationToken)
    {
        return await Problems.Guard(logger, null, async () =>
        {
            var counts = await store.CountByDestinationAsync(cancellationToken);
            var holds = control.Current;
            var items = options.Value.Destinations.OrderBy(d => d.Key, StringComparer.Ordinal).Select(d => Describe(d.Key, d.Value, holds, counts));
            return Results.Json(new DestinationList { Items = items.ToList() });
        });
    }

    /// <summary>Who did an operator action, for the audit. Without keys configured, everyone is "anonymous".</summary>
    internal static string Operator(HttpContext http) => http.User.Identity?.Name ?? "anonymous";
}
