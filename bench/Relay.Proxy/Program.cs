using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Relay.Proxy;

// relay-proxy: the floor of any router on this machine, for bench/run.sh. A storage-less forwarding proxy: an ASP.NET
// Core minimal endpoint that takes the load generator's POST /messages and POSTs the payload on with HttpClient, with
// the message id as Idempotency-Key, and answers when the destination has. No storage, no retry, no ordering: what
// Relay does on top of this is what its share of the floor pays for.
//   relay-proxy --urls http://127.0.0.1:5297 --target http://127.0.0.1:5299/relay
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, ProxyJson.Default));
var target = new Uri(builder.Configuration["target"] ?? throw new InvalidOperationException("--target URL is required"));
using var client = new HttpClient(new SocketsHttpHandler
{
    AllowAutoRedirect = false,
    UseCookies = false,
    UseProxy = false,
    AutomaticDecompression = DecompressionMethods.None,
    PooledConnectionLifetime = TimeSpan.FromMinutes(5),
})
{
    Timeout = TimeSpan.FromSeconds(2),
};
var app = builder.Build();
app.MapPost("/messages", async (ProxyRequest message, CancellationToken cancellationToken) =>
{
    if (message.Payload is null)
    {
        return Results.BadRequest();
    }

    var id = message.Id ?? Guid.NewGuid().ToString("N");
    using var request = new HttpRequestMessage(HttpMethod.Post, target)
    {
        Content = new StringContent(message.Payload, Encoding.UTF8, message.ContentType ?? "text/plain"),
    };
    request.Headers.TryAddWithoutValidation("Idempotency-Key", id);
    request.Headers.TryAddWithoutValidation("X-Relay-Attempt", "1");
    try
    {
        using var response = await client.SendAsync(request, cancellationToken);
        return response.IsSuccessStatusCode
            ? Results.Json(new ProxyAnswer(id, "Delivered"), ProxyJson.Default.ProxyAnswer)
            : Results.Json(new ProxyAnswer(id, "InRetry"), ProxyJson.Default.ProxyAnswer, statusCode: 202);
    }
    catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
    {
        return Results.Json(new ProxyAnswer(id, "InRetry"), ProxyJson.Default.ProxyAnswer, statusCode: 202);
    }
});
app.MapGet("/health", () => Results.Ok());
app.Run();

namespace Relay.Proxy
{
    internal sealed record ProxyRequest(string? Id, string? Destination, string? Payload, string? ContentType);

    internal sealed record ProxyAnswer(string Id, string Status);

    [JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
    [JsonSerializable(typeof(ProxyRequest))]
    [JsonSerializable(typeof(ProxyAnswer))]
    internal sealed partial class ProxyJson : JsonSerializerContext;
}
