using Orleans.Runtime;
using Relay.Core.Storage;

namespace Relay.Silo.Api;

internal static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health", HealthAsync)
            .WithName("GetHealth")
            .WithTags(ApiReference.HealthTag)
            .WithSummary("Ready when the storage answers and this silo has joined its cluster")
            .WithDescription("200 Ready, else 503 NotReady: suitable for a load balancer's check.")
            .Produces<HealthReport>(StatusCodes.Status200OK)
            .Produces<HealthReport>(StatusCodes.Status503ServiceUnavailable);
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
        var body = new HealthReport(storage && silo == SiloStatus.Active ? "Ready" : "NotReady", storage ? "Reachable" : "Unreachable", silo.ToString());
        return Results.Json(body, statusCode: storage && silo == SiloStatus.Active ? 200 : 503);
    }

    /// <param name="Status"><c>Ready</c> or <c>NotReady</c>.</param>
    /// <param name="Storage"><c>Reachable</c> or <c>Unreachable</c>.</param>
    /// <param name="Silo">This silo's membership status in its cluster: <c>Active</c> once joined.</param>
    internal sealed record HealthReport(string Status, string Storage, string Silo);
}
