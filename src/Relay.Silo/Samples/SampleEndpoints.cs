using Relay.Silo.Api;

namespace Relay.Silo.Samples;

/// <summary>
/// Tiny destinations served by the silo itself, so that the README's first request has somewhere to go on a
/// fresh machine. Switched on by <c>Relay:Samples:Enabled</c> (true only in the shipped appsettings.json).
/// </summary>
internal static class SampleEndpoints
{
    public static IEndpointRouteBuilder MapSampleEndpoints(this IEndpointRouteBuilder root)
    {
        // The silo calls these as any destination, without a key: they are open to anyone (and off unless enabled).
        var app = root.MapGroup("").AllowAnonymous().WithTags(ApiReference.SamplesTag);
        // Accepts anything: 200 with the number of bytes received.
        app.MapPost("/samples/echo", async (HttpRequest request) =>
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer);
            return Results.Json(new { received = buffer.Length, idempotencyKey = request.Headers["Idempotency-Key"].ToString() });
        })
            .WithName("SampleEcho")
            .WithSummary("Sample destination: answers 200 with the number of bytes received")
            .WithDescription("Served only with Relay:Samples:Enabled=true (the shipped appsettings.json); open to anyone. "
                + "Answers {\"received\": <bytes>, \"idempotencyKey\": \"<the Idempotency-Key header>\"}.")
            .Produces(StatusCodes.Status200OK, contentType: "application/json");
        // Always fails with the given status (e.g. 503 to see retries, 400 to see a dead letter).
        app.MapPost("/samples/fail/{status:int}", (int status) =>
            Results.Problem(statusCode: status is >= 400 and <= 599 ? status : 500, title: "Sample failure"))
            .WithName("SampleFail")
            .WithSummary("Sample destination: always fails with the given status")
            .WithDescription("A status from 400 to 599 (503 shows retries, 400 a dead letter); any other answers 500. "
                + "Served only with Relay:Samples:Enabled=true; open to anyone.")
            .ProducesProblem(StatusCodes.Status500InternalServerError);
        return root;
    }
}
