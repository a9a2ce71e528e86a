using System.Globalization;
using Relay.Sink;

// relay-sink: the destination of the benchmarks, in a process of its own so its cost is not counted as Relay's.
//   relay-sink --urls http://127.0.0.1:5299 [--latency-ms 1] [--failure-rate 0] [--down]
// Any POST except /control and /reset is a delivery; GET /stats and GET /ids tell the harness what arrived.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.WebHost.ConfigureKestrel(k =>
{
    k.Limits.MaxRequestBodySize = 1 << 20;
    k.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
});
var settings = SinkSettings.FromConfiguration(builder.Configuration);
var sink = new SinkRecorder(TimeProvider.System, settings);
var app = builder.Build();

// Run-time switches: POST /control?latencyMs=1&failureRate=0.1&down=true (any subset).
app.MapPost("/control", (HttpRequest request) =>
{
    var q = request.Query;
    if (q.TryGetValue("latencyMs", out var latency))
    {
        settings.LatencyMs = double.Parse(latency!, CultureInfo.InvariantCulture);
    }

    if (q.TryGetValue("failureRate", out var failure))
    {
        settings.FailureRate = double.Parse(failure!, CultureInfo.InvariantCulture);
    }

    if (q.TryGetValue("down", out var down))
    {
        settings.Down = bool.Parse(down!);
    }

    return Results.Json(settings.Describe());
});
// POST /reset?prefix=P: forget every arrival; count only message ids starting with P from now on.
app.MapPost("/reset", (string? prefix) =>
{
    sink.Reset(prefix);
    return Results.NoContent();
});
app.MapGet("/stats", () => Results.Text(sink.StatsJson(), "application/json"));
app.MapGet("/ids", () => Results.Text(sink.IdsText(), "text/plain"));
app.MapPost("/{**path}", sink.HandleAsync);
app.Run();
