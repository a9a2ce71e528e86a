using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;

namespace Relay.Testing;

/// <summary>A request a <see cref="TestDestination"/> received.</summary>
public sealed record ReceivedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body, DateTimeOffset At)
{
    public string Text => System.Text.Encoding.UTF8.GetString(Body);
    public string? Header(string name) => Headers.TryGetValue(name, out var v) ? v : null;
}

/// <summary>What a <see cref="TestDestination"/> answers.</summary>
public sealed record Reply(int Status, string? Body = null, IReadOnlyDictionary<string, string>? Headers = null, TimeSpan Delay = default)
{
    /// <summary>A body of bytes as they are (NUL, bytes that are not UTF-8), sent instead of <see cref="Body"/>.</summary>
    public byte[]? Bytes { get; init; }

    public static Reply Ok(string? body = "ok") => new(200, body);
    public static Reply Status503 => new(503, "down");
}

/// <summary>
/// A real HTTP server on 127.0.0.1 (Kestrel, a free port) that records every request and answers as the
/// test says: a fixed reply, or a script of replies per path.
/// </summary>
public sealed class TestDestination : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedRequest> _received = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<Reply>> _scripts = new();
    private readonly ConcurrentDictionary<string, Reply> _defaults = new();
    private readonly ConcurrentDictionary<string, Func<ReceivedRequest, Reply>> _responders = new();
    private readonly ConcurrentDictionary<string, InFlight> _inFlight = new();
    private Reply _default = Reply.Ok();

    private TestDestination(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = "";

    public IReadOnlyList<ReceivedRequest> Received => _received.ToArray();

    public IReadOnlyList<ReceivedRequest> ReceivedAt(string path) => _received.Where(r => r.Path == path).ToArray();

    public string Url(string path) => BaseUrl + path;

    /// <summary>The most requests to <paramref name="path"/> that were in flight at once (received, not yet answered).</summary>
    public int MaxInFlight(string path) => _inFlight.TryGetValue(path, out var counter) ? counter.Max : 0;

    public static async Task<TestDestination> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var destination = new TestDestination(app);
        app.Run(destination.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        destination.BaseUrl = address.TrimEnd('/');
        return destination;
    }

    /// <summary>Every request to <paramref name="path"/> gets <paramref name="reply"/> (after any scripted replies).</summary>
    public void Answer(string path, Reply reply) => _defaults[path] = reply;

    /// <summary>The next requests to <paramref name="path"/> get these replies in order, then the path's default.</summary>
    public void Script(string path, params Reply[] replies)
    {
        var queue = _scripts.GetOrAdd(path, _ => new ConcurrentQueue<Reply>());
        foreach (var reply in replies)
        {
            queue.Enqueue(reply);
        }
    }

    public void AnswerAll(Reply reply) => _default = reply;

    /// <summary>
    /// Every request to <paramref name="path"/> gets what <paramref name="responder"/> makes of it (after any scripted
    /// replies, before the path's default): a reply by the request itself (e.g. its <c>X-Relay-Attempt</c>), where a
    /// script's order would depend on how the requests of many messages interleave.
    /// </summary>
    public void AnswerBy(string path, Func<ReceivedRequest, Reply> responder) => _responders[path] = responder;

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        using var inFlight = _inFlight.GetOrAdd(path, _ => new InFlight()).Enter();
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer);
        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var request = new ReceivedRequest(context.Request.Method, path, headers, buffer.ToArray(), DateTimeOffset.UtcNow);
        _received.Enqueue(request);

        var reply = _scripts.TryGetValue(path, out var queue) && queue.TryDequeue(out var scripted)
            ? scripted
            : _responders.TryGetValue(path, out var responder) ? responder(request)
            : _defaults.TryGetValue(path, out var fixedReply) ? fixedReply : _default;
        if (reply.Delay > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(reply.Delay, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        context.Response.StatusCode = reply.Status;
        foreach (var (name, value) in reply.Headers ?? new Dictionary<string, string>())
        {
            context.Response.Headers[name] = value;
        }

        if (reply.Bytes is not null)
        {
            await context.Response.Body.WriteAsync(reply.Bytes);
        }
        else if (reply.Body is not null)
        {
            await context.Response.WriteAsync(reply.Body);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>Requests in flight to one path, and the most there ever were.</summary>
    private sealed class InFlight
    {
        private int _now;
        private int _max;

        public int Max => Volatile.Read(ref _max);

        public IDisposable Enter()
        {
            var now = Interlocked.Increment(ref _now);
            int max;
            while (now > (max = Volatile.Read(ref _max)) && Interlocked.CompareExchange(ref _max, now, max) != max)
            {
            }

            return new Exit(this);
        }

        private sealed class Exit(InFlight counter) : IDisposable
        {
            public void Dispose() => Interlocked.Decrement(ref counter._now);
        }
    }
}
