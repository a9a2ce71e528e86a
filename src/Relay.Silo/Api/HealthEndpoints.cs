using System.Text.Json.Serialization;
using Orleans.Runtime;
using Relay.Silo.Health;
using Relay.Silo.Security;

namespace Relay.Silo.Api;

internal static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        // Open to anyone who reaches the silo (a load balancer has no key); the detail only to operators.
        app.MapGet("/health", HealthAsync)
            .AllowAnonymous()
            .WithName("GetHealth")
            .WithTags(ApiReference.HealthTag)
            .WithSummary("Ready when the storage answers reads and accepts writes and this silo has joined its cluster")
            .WithDescription("200 Ready, else 503 NotReady: suitable for a load balancer's check, without a key. "
                + "Only an operator (or anyone, on a silo without keys) sees the detail: storage, storageWrites, silo.")
            .Produces<HealthReport>(StatusCodes.Status200OK)
            .Produces<HealthReport>(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    /// <summary>
    /// Ready (200) when the storage answers a read and accepts a write (<see cref="StorageHealth"/>) and this silo has
    /// joined its cluster (status Active), else NotReady (503). Operators see why; anyone else the status only.
    /// </summary>
    private static async Task<IResult> HealthAsync(HttpContext http, StorageHealth storage, ISiloStatusOracle membership, CancellationToken cancellationToken)
    {
        var reads = await storage.CanReadAsync(cancellationToken);
        var writes = reads ? await storage.CanWriteAsync(cancellationToken) : null;
        var silo = membership.CurrentStatus;
        var ready = reads && writes is { Accepted: true } && silo == SiloStatus.Active;
        var status = ready ? "Ready" : "NotReady";
        var code = ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        var body = http.User.HasClaim(RelayAuth.RoleClaim, nameof(RelayRole.Operator))
            ? new HealthReport(status)
            {
                Storage = reads ? "Reachable" : "Unreachable",
                // Not checked while reads fail; a verdict up to Relay:Health:WriteCheckInterval old.
                StorageWrites = writes is null ? "Unchecked" : writes.Accepted ? "Accepted" : "Failing",
                StorageWritesCheckedAt = writes?.CheckedAt,
                Silo = silo.ToString(),
            }
            : new HealthReport(status);
        return Results.Json(body, statusCode: code);
    }

    /// <param name="Status"><c>Ready</c> or <c>NotReady</c>.</param>
    internal sealed record HealthReport(string Status)
    {
        /// <summary><c>Reachable</c> or <c>Unreachable</c>: whether the storage answers a read. Operators only.</summary>
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public string? Storage { get; init; }

        /// <summary><c>Accepted</c>, <c>Failing</c>, or <c>Unchecked</c> while reads fail: whether the storage accepts a write. Operators only.</summary>
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public string? StorageWrites { get; init; }

        /// <summary>When the write check behind <see cref="StorageWrites"/> was made (at most <c>Relay:Health:WriteCheckInterval</c> ago). Operators only.</summary>
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public DateTimeOffset? StorageWritesCheckedAt { get; init; }

        /// <summary>This silo's membership status in its cluster: <c>Active</c> once joined. Operators only.</summary>
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public string? Silo { get; init; }
    }
}
