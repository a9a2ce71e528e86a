using System.Text;
using Microsoft.Extensions.Options;
using Relay.Contracts;
using Relay.Core.Messages;
using Relay.Core.Options;
using Relay.Core.Storage;
using Relay.Grains.Delivery;
using Relay.Grains.Destinations;

namespace Relay.Silo.Api;

/// <summary>What operators do with failed deliveries: resubmit (edited or not), discard; and the destinations overview.</summary>
internal static class OperatorEndpoints
{
    /// <summary>Most deliveries one bulk resubmit touches.</summary>
    private const int BulkLimit = 100_000;

    public static IEndpointRouteBuilder MapOperatorEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/messages/resubmit", BulkResubmitAsync);
        app.MapPost("/messages/{id}/resubmit", ResubmitAsync);
        app.MapPost("/messages/{id}/discard", DiscardAsync);
        app.MapGet("/destinations", DestinationsAsync);
        app.MapPost("/destinations/{name}/pause", (string name, HttpContext http, DestinationControl control, IOptions<RelayOptions> options, ILogger<ResubmitRequest> logger) =>
            ControlAsync(name, http, control, options, logger, (grain, by) => grain.Pause(name, by)));
        app.MapPost("/destinations/{name}/resume", (string name, HttpContext http, DestinationControl control, IOptions<RelayOptions> options, ILogger<ResubmitRequest> logger) =>
            ControlAsync(name, http, control, options, logger, (grain, by) => grain.Resume(name, by)));
        app.MapPost("/destinations/{name}/circuit", async (string name, HttpContext http, DestinationControl control, IOptions<RelayOptions> options, ILogger<ResubmitRequest> logger) =>
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

            return await ControlAsync(name, http, control, options, logger, (grain, by) => grain.SetCircuit(name, request.State.Value, by));
        });
        return app;
    }

    private static async Task<IResult> ResubmitAsync(string id, HttpContext http, IRelayStore store, IGrainFactory grains,
        IOptions<RelayOptions> options, ILogger<ResubmitRequest> logger)
    {
        var (request, problem) = await MessageEndpoints.ReadJsonAsync<ResubmitRequest>(http, allowEmpty: true);
        if (problem is not null)
        {
            return problem;
        }

        request ??= new ResubmitRequest();
        var relay = options.Value;
        if (request.Contract is not null && !relay.Contracts.ContainsKey(request.Contract) && request.Contract != RelayOptions.DefaultContractName)
        {
            return Problems.Of(400, $"Unknown contract '{request.Contract}'.");
        }

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

        if (payload is { Length: 0 })
        {
            return Problems.Of(400, "The edited payload is empty.");
        }

        if (payload is not null && payload.Length > relay.Limits.MaxPayloadBytes)
        {
            return Problems.Of(413, $"The payload is larger than {relay.Limits.MaxPayloadBytes} bytes.");
        }

        return await Problems.Guard(logger, id, async () =>
        {
            var message = await store.GetMessageAsync(id, includeAudit: false, http.RequestAborted);
            if (message is null || message.Deliveries.Count == 0)
            {
                return Problems.Of(404, $"No message with id '{id}'.");
            }

            List<DeliveryRow> targets;
            if (request.Destination is not null)
            {
                var named = message.Deliveries.FirstOrDefault(d => d.Destination == request.Destination);
                if (named is null)
                {
                    return Problems.Of(404, $"Message '{id}' has no delivery to '{request.Destination}'.");
                }

                targets = [named];
            }
            else
            {
                targets = message.Deliveries.Where(d => d.Status == DeliveryStatus.DeadLettered).ToList();
                if (targets.Count == 0)
                {
                    return Problems.Of(409, $"No delivery of message '{id}' is dead-lettered.", "Only dead-lettered deliveries are resubmitted; a delivered one is never sent again.");
                }
            }

            var command = new ResubmitCommand
            {
                Payload = payload,
                Contract = request.Contract,
                By = Operator(http),
                AttemptNow = true,
                Named = request.Destination is not null,
            };
            await Task.WhenAll(targets.Select(d => grains.GetGrain<IDeliveryGrain>(new DeliveryKey(d.Destination, id).ToString()).Resubmit(command)));
            var after = await store.GetMessageAsync(id, includeAudit: false, http.RequestAborted);
            return Views.Answer(Views.ToResult(after!, withAudit: false));
        });
    }

    private static async Task<IResult> BulkResubmitAsync(HttpContext http, IRelayStore store, IGrainFactory grains, ILogger<BulkResubmitRequest> logger)
    {
        var (request, problem) = await MessageEndpoints.ReadJsonAsync<BulkResubmitRequest>(http, allowEmpty: true);
        if (problem is not null)
        {
            return problem;
        }

        request ??= new BulkResubmitRequest();
        var status = request.Status ?? DeliveryStatus.DeadLettered;
        if (status is not (DeliveryStatus.DeadLettered or DeliveryStatus.InRetry))
        {
            return Problems.Of(400, $"Deliveries that are {status} cannot be resubmitted.",
                "Use \"status\": \"DeadLettered\" (the default), or \"InRetry\" to try those waiting for a retry now.");
        }

        // InRetry ones are named by the filter explicitly: "retry now", as ServicePulse's retry-all.
        var command = new ResubmitCommand { By = Operator(http), AttemptNow = false, Named = status == DeliveryStatus.InRetry };
        return await Problems.Guard(logger, null, async () =>
        {
            var count = 0;
            var seen = new HashSet<DeliveryKey>();
            while (count < BulkLimit)
            {
                var batch = await store.FindDeliveriesAsync(status, request.Destination, 500, http.RequestAborted);
                var fresh = batch.Where(seen.Add).ToList();
                if (fresh.Count == 0)
                {
                    break;
                }

                await Parallel.ForEachAsync(fresh, new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = http.RequestAborted }, async (key, _) =>
                {
                    try
                    {
                        await grains.GetGrain<IDeliveryGrain>(key.ToString()).Resubmit(command);
                        Interlocked.Increment(ref count);
                    }
                    catch (Grains.RelayGrainException)
                    {
                        // Its state moved on since the query (resubmitted or discarded meanwhile): nothing to do.
                    }
                });
            }

            return Results.Json(new BulkResubmitResult { Resubmitted = count });
        });
    }

    private static async Task<IResult> DiscardAsync(string id, HttpContext http, IRelayStore store, IGrainFactory grains, ILogger<ResubmitRequest> logger)
    {
        var destination = http.Request.Query["destination"].ToString();
        return await Problems.Guard(logger, id, async () =>
        {
            var message = await store.GetMessageAsync(id, includeAudit: false, http.RequestAborted);
            if (message is null || message.Deliveries.Count == 0)
            {
                return Problems.Of(404, $"No message with id '{id}'.");
            }

            var targets = message.Deliveries
                .Where(d => d.Status == DeliveryStatus.DeadLettered && (destination.Length == 0 || d.Destination == destination))
                .ToList();
            if (targets.Count == 0)
            {
                return Problems.Of(409, $"No delivery of message '{id}' is dead-lettered.", "Only a dead-lettered delivery can be discarded.");
            }

            var by = Operator(http);
            await Task.WhenAll(targets.Select(d => grains.GetGrain<IDeliveryGrain>(new DeliveryKey(d.Destination, id).ToString()).Discard(by)));
            var after = await store.GetMessageAsync(id, includeAudit: false, http.RequestAborted);
            return Results.Json(Views.ToResult(after!, withAudit: false));
        });
    }

    private static async Task<IResult> ControlAsync(string name, HttpContext http, DestinationControl control, IOptions<RelayOptions> options,
        ILogger logger, Func<IDestinationControlGrain, string, Task<DestinationHolds>> action)
    {
        if (!options.Value.Destinations.ContainsKey(name))
        {
            return Problems.Of(404, $"Unknown destination '{name}'.");
        }

        return await Problems.Guard(logger, null, async () =>
        {
            var holds = await action(control.Grain, Operator(http));
            control.Update(holds);
            return Results.Json(Describe(name, options.Value.Destinations[name], holds, counts: []));
        });
    }

    private static object Describe(string name, DestinationOptions destination, DestinationHolds holds, IReadOnlyList<DestinationCount> counts)
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
    private static string Operator(HttpContext http) => http.User.Identity?.Name ?? "anonymous";
}
