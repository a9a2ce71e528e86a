using Orleans.Runtime;
using Relay.Core.Storage;

namespace Relay.Silo.Api;

internal static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health", HealthAsync);
        return app;
    }

    /// <summary>Ready when the storage answers and this silo has joined its cluster (status Active).</summary>
    private static async Task<IResult> HealthAsync(IRelayStore store, ISiloStatusOracle membership, CancellationToken cancellationToken)
    {
        bool storage;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            storage = await store.PingAsync(timeout.Token);
        }
        catch (Exception)
        {
            storage = false;
        }

        var silo = membership.CurrentStatus;
        var body = new { status = storage && silo == SiloStatus.Active ? "Ready" : "NotReady", storage = storage ? "Reachable" : "Unreachable", silo = silo.ToString() };
        return Results.Json(body, statusCode: storage && silo == SiloStatus.Active ? 200 : 503);
    }
}
