using System.Text;
using Microsoft.Extensions.Options;
using Relay.Contracts;
using Relay.Core.Messages;
using Relay.Core.Options;
using Relay.Core.Storage;
using Relay.Grains.Delivery;
using Relay.Grains.Destinations;
using Relay.Silo.Operating;

namespace Relay.Silo.Api;

/// <summary>What operators do with failed deliveries: resubmit (edited or not), discard; and the destinations overview.</summary>
internal static class OperatorEndpoints
{
    public static IEndpointRouteBuilder MapOperatorEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/messages/resubmit", BulkResubmitAsync);
        app.MapPost("/messages/{id}/resubmit", ResubmitAsync);
        app.MapPost("/messages/{id}/discard", DiscardAsync);
        app.MapGet("/destinations", DestinationsAsync);
        app.MapPost("/destinations/{name}/pause", (string name, HttpContext http, OperatorActions actions, IOptions<RelayOptions> options, ILogger<ResubmitRequest> logger) =>
            ControlAsync(name, http, actions, options, logger, (a, by) => a.SetPausedAsync(name, paused: true, by)));
        app.MapPost("/destinations/{name}/resume", (string name, HttpContext http, OperatorActions actions, IOptions<RelayOptions> options, ILogger<ResubmitRequest> logger) =>
            ControlAsync(name, http, actions, options, logger, (a, by) => a.SetPausedAsync(name, paused: false, by)));
        app.MapPost("/destinations/{name}/circuit", async (string name, HttpContext http, OperatorActions actions, IOptions<RelayOptions> options, ILogger<ResubmitRequest> logger) =>
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
        });
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
        return await Problems.Guard(logger, null, async () =>
        {
            var count = await actions.ResubmitByStatusAsync(request.Status ?? DeliveryStatus.DeadLettered, request.Destination, Operator(http), http.RequestAborted);
            return Results.Json(new BulkResubmitResult { Resubmitted = count });
        });
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
            return Results.Json(Describe(name, options.Value.Destinations[name], holds, counts: []));
        });
    }

    internal static object Describe(string name, DestinationOptions destination, DestinationHolds holds, IReadOnlyList<DestinationCount> counts)
    {
        long Count(DeliveryStatus s) => counts.Where(c => c.Destination == name && c.Status == s).Sum(c => c.Count);
        var hold = holds.ByDestination.GetValueOrDefault(name);
        return new
        {
            name,
            protocol = destination.Protocol,
            contract = destination.Contract ?? RelayOptions.DefaultContractName,
            paused = hold?.Paused ?? false,
            circuit = (hold?.Circuit ?? CircuitState.Closed).ToString(),
            openUntil = hold?.OpenUntil,
            holdReason = hold?.Reason,
            maxPerSecond = destination.MaxPerSecond,
            failureThreshold = destination.FailureThreshold,
            pending = Count(DeliveryStatus.Pending),
            inRetry = Count(DeliveryStatus.InRetry),
            deadLettered = Count(DeliveryStatus.DeadLettered),
            delivered = Count(DeliveryStatus.Delivered),
            discarded = Count(DeliveryStatus.Discarded),
        };
    }

    private sealed class CircuitRequest
    {
        public CircuitState? State { get; set; }
    }

    private static async Task<IResult> DestinationsAsync(IRelayStore store, DestinationControl control, IOptions<RelayOptions> options, ILogger<ResubmitRequest> logger, CancellationToken cancellationToken)
    {
        return await Problems.Guard(logger, null, async () =>
        {
            var counts = await store.CountByDestinationAsync(cancellationToken);
            var holds = control.Current;
            var items = options.Value.Destinations.OrderBy(d => d.Key, StringComparer.Ordinal).Select(d => Describe(d.Key, d.Value, holds, counts));
            return Results.Json(new { items });
        });
    }

    /// <summary>Who did an operator action, for the audit. Without keys configured, everyone is "anonymous".</summary>
    internal static string Operator(HttpContext http) => http.User.Identity?.Name ?? "anonymous";
}
