using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using System.Collections.Concurrent;
using System.Net;

namespace Relay.Fuzz;

/// <summary>
/// The fuzz run's destination on 127.0.0.1: <c>POST /ok</c> answers 200 and keeps the <c>Idempotency-Key</c> of what
/// arrived; <c>POST /dead</c> answers 400 (the portal's dead letters); any other request is an XML entity the silo
/// should never have fetched.
/// </summary>
internal sealed class FuzzSink(int port) : IAsyncDisposable
{
    private WebApplication? _app;

    public ConcurrentDictionary<string, int> Arrivals { get; } = new(StringComparer.Ordinal);

    public ConcurrentQueue<string> EntityFetches { get; } = new();

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
        _app = builder.Build();
        _app.MapPost("/ok", (HttpRequest request) =>
        {
            var key = request.Headers["Idempotency-Key"].ToString();
            Arrivals.AddOrUpdate(key, 1, (_, n) => n + 1);
            return Results.Ok();
        });
        _app.MapPost("/dead", () => Results.BadRequest());
        _app.MapFallback((HttpRequest request) =>
        {
            EntityFetches.Enqueue($"{request.Method} {request.Path}");
            return Results.NotFound();
        });
        await _app.StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}
