using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Hangfire;
using Hangfire.PostgreSql;
using Relay.HangfirePeer;

// relay-hangfire-peer: what a .NET team would build instead of Relay, for the benchmark's side-by-side figures.
// POST /messages (the same JSON as Relay's) enqueues one durable Hangfire job that POSTs the payload to the sink,
// with Hangfire's automatic retry; the job survives a restart because it is stored in PostgreSQL before the 202.
//   relay-hangfire-peer --urls http://127.0.0.1:5298 --connection "Host=...;Database=hangfire" --sink http://127.0.0.1:5299/hangfire
//     [--workers 40] [--poll-ms 100]
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
var connection = builder.Configuration["connection"] ?? throw new InvalidOperationException("--connection is required");
var sink = new Uri(builder.Configuration["sink"] ?? throw new InvalidOperationException("--sink is required"));
var workers = int.Parse(builder.Configuration["workers"] ?? "40", CultureInfo.InvariantCulture);
var pollMs = int.Parse(builder.Configuration["poll-ms"] ?? "100", CultureInfo.InvariantCulture);

builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, PeerJson.Default));
builder.Services.AddHttpClient(SinkJob.Client, c =>
{
    c.BaseAddress = sink;
    c.Timeout = TimeSpan.FromSeconds(30);
});
builder.Services.AddTransient<SinkJob>();
// Hangfire's best settings for short I/O-bound jobs: long polling (LISTEN/NOTIFY wakes a worker as soon as a job is
// enqueued, instead of waiting for the poll), a short poll as the fallback, sliding invisibility, native transactions,
// and enough workers that the 1 ms sink is never what they wait for.
builder.Services.AddHangfire(config => config
    .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
    .UseSimpleAssemblyNameTypeSerializer()
    .UseRecommendedSerializerSettings()
    .UsePostgreSqlStorage(
        o => o.UseNpgsqlConnection(connection),
        new PostgreSqlStorageOptions
        {
            PrepareSchemaIfNecessary = true,
            QueuePollInterval = TimeSpan.FromMilliseconds(pollMs),
            EnableLongPolling = true,
            UseSlidingInvisibilityTimeout = true,
            UseNativeDatabaseTransactions = true,
        }));
builder.Services.AddHangfireServer(o =>
{
    o.WorkerCount = workers;
    o.SchedulePollingInterval = TimeSpan.FromSeconds(1);
});

var app = builder.Build();
app.MapPost("/messages", (PeerMessage message, IBackgroundJobClient jobs) =>
{
    if (string.IsNullOrEmpty(message.Id) || message.Payload is null)
    {
        return Results.Problem(title: "A message needs an id and a payload.", statusCode: 400);
    }

    var job = jobs.Enqueue<SinkJob>(j => j.DeliverAsync(message.Id, message.Payload, CancellationToken.None));
    return Results.Json(new PeerAnswer(message.Id, "Enqueued", job), PeerJson.Default.PeerAnswer, statusCode: 202);
});
app.MapGet("/health", () => Results.Ok());
app.Run();

namespace Relay.HangfirePeer
{
    internal sealed record PeerMessage(string Id, string? Destination, string? Payload);

    internal sealed record PeerAnswer(string Id, string Status, string JobId);

    [JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
    [JsonSerializable(typeof(PeerMessage))]
    [JsonSerializable(typeof(PeerAnswer))]
    internal sealed partial class PeerJson : JsonSerializerContext;

    /// <summary>The job: POST the payload to the sink, with the message id as Idempotency-Key; a failure throws, so Hangfire retries.</summary>
    public sealed class SinkJob(IHttpClientFactory clients)
    {
        public const string Client = "sink";

        [AutomaticRetry(Attempts = 10)]
        public async Task DeliverAsync(string id, string payload, CancellationToken cancel)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "") { Content = new StringContent(payload) };
            request.Headers.TryAddWithoutValidation("Idempotency-Key", id);
            using var response = await clients.CreateClient(Client).SendAsync(request, cancel);
            response.EnsureSuccessStatusCode();
        }
    }
}
