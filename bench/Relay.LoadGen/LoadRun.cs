using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;

namespace Relay.LoadGen;

/// <summary>
/// One run: the closed loop (C senders, each sending its next message when the last is answered) or the open loop
/// (one message every 1/R s on a fixed schedule, however long the answers take).
/// </summary>
internal sealed class LoadRun : IDisposable
{
    private static readonly MediaTypeHeaderValue Json = new("application/json") { CharSet = "utf-8" };

    private readonly LoadOptions _options;
    private readonly LoadResults _results = new();
    private readonly HttpClient _http;
    private readonly string _payload;
    private long _started;
    private long _finished;

    private LoadRun(LoadOptions options)
    {
        _options = options;
        _payload = new string('x', options.PayloadBytes);
        var handler = new SocketsHttpHandler
        {
            // The closed loop never needs more connections than senders; the open loop opens what its backlog needs.
            MaxConnectionsPerServer = options.OpenLoop ? int.MaxValue : options.Concurrency,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            PooledConnectionLifetime = TimeSpan.FromMinutes(10),
        };
        _http = new HttpClient(handler) { Timeout = options.Timeout };
        if (options.ApiKey is not null)
        {
            _http.DefaultRequestHeaders.Add("X-Api-Key", options.ApiKey);
        }
    }

    public LoadResults Results => _results;

    /// <summary>From the first send to the last answer (or to now, while running).</summary>
    public TimeSpan Elapsed
    {
        get
        {
            var finished = Interlocked.Read(ref _finished);
            return _started == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(_started, finished > 0 ? finished : Stopwatch.GetTimestamp());
        }
    }

    /// <summary>Runs to the end (or until <paramref name="stop"/>; requests under way are still awaited).</summary>
    public static async Task<(LoadResults Results, TimeSpan Elapsed)> RunAsync(LoadOptions options, TextWriter progress, CancellationToken stop)
    {
        using var run = new LoadRun(options);
        using var quiet = new CancellationTokenSource();
        var reporter = options.Progress > TimeSpan.Zero ? run.ReportProgressAsync(progress, quiet.Token) : Task.CompletedTask;
        run._started = Stopwatch.GetTimestamp();
        if (options.OpenLoop)
        {
            await run.OpenLoopAsync(stop);
        }
        else
        {
            await run.ClosedLoopAsync(stop);
        }

        Interlocked.Exchange(ref run._finished, Stopwatch.GetTimestamp());
        await quiet.CancelAsync();
        await reporter;
        return (run._results, run.Elapsed);
    }

    private async Task ClosedLoopAsync(CancellationToken stop)
    {
        var total = _options.Total ?? long.MaxValue;
        var deadline = _options.Duration is { } d ? _started + (long)(d.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;
        var next = -1L;

        async Task SenderAsync()
        {
            while (!stop.IsCancellationRequested && Stopwatch.GetTimestamp() < deadline)
            {
                var index = Interlocked.Increment(ref next);
                if (index >= total)
                {
                    return;
                }

                await SendAsync(index, Stopwatch.GetTimestamp());
            }
        }

        await Task.WhenAll(Enumerable.Range(0, _options.Concurrency).Select(_ => Task.Run(SenderAsync, CancellationToken.None)));
    }

    private async Task OpenLoopAsync(CancellationToken stop)
    {
        var total = _options.Total!.Value;
        var ticksPerMessage = Stopwatch.Frequency / _options.Rate!.Value;
        // The dispatcher holds one count itself, so the count reaches zero only after the last send has been issued.
        var outstanding = 1L;
        var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        async Task SendAndReleaseAsync(long index, long intended)
        {
            try
            {
                await SendAsync(index, intended);
            }
            finally
            {
                if (Interlocked.Decrement(ref outstanding) == 0)
                {
                    drained.TrySetResult();
                }
            }
        }

        for (var index = 0L; index < total && !stop.IsCancellationRequested; index++)
        {
            // The schedule, not the answers, decides when a message goes: this is what keeps coordinated omission out.
            var intended = _started + (long)(index * ticksPerMessage);
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), intended);
            if (wait > TimeSpan.FromMilliseconds(1))
            {
                try
                {
                    await Task.Delay(wait, stop);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }

            Interlocked.Increment(ref outstanding);
            _ = SendAndReleaseAsync(index, intended);
        }

        if (Interlocked.Decrement(ref outstanding) == 0)
        {
            drained.TrySetResult();
        }

        await drained.Task;
    }

    /// <summary>Sends message <paramref name="index"/> and records its latency from <paramref name="intended"/> (a timestamp).</summary>
    private async Task SendAsync(long index, long intended)
    {
        var url = new Uri(_options.Urls[(int)(index % _options.Urls.Count)], "messages");
        var body = JsonSerializer.SerializeToUtf8Bytes(
            new MessageRequest($"{_options.IdPrefix}-{index}", _options.Destination, _payload, "text/plain", _options.Contract),
            LoadJson.Default.MessageRequest);
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = Json;
        _results.RecordSent();
        try
        {
            // Requests under way are not cancelled by a stop: their answers still count. The client's Timeout bounds them.
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, CancellationToken.None);
            var answer = await response.Content.ReadAsByteArrayAsync(CancellationToken.None);
            var latency = Stopwatch.GetElapsedTime(intended);
            _results.RecordAnswer(latency, (int)response.StatusCode, response.IsSuccessStatusCode ? MessageStatus(answer) : null);
        }
        catch (HttpRequestException ex)
        {
            _results.RecordError(ex.InnerException is SocketException socket ? socket.SocketErrorCode.ToString() : ex.HttpRequestError.ToString());
        }
        catch (TaskCanceledException)
        {
            _results.RecordError("Timeout");
        }
        catch (Exception ex) when (ex is IOException or SocketException)
        {
            _results.RecordError(ex.GetType().Name);
        }
    }

    /// <summary>The <c>status</c> of a message answer, or <c>unreadable</c> when the body is not one.</summary>
    private static string MessageStatus(byte[] answer)
    {
        try
        {
            var reader = new Utf8JsonReader(answer);
            if (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
            {
                while (reader.Read() && reader.CurrentDepth >= 1)
                {
                    if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1)
                    {
                        var isStatus = reader.ValueTextEquals("status");
                        reader.Read();
                        if (isStatus && reader.TokenType == JsonTokenType.String)
                        {
                            return reader.GetString()!;
                        }

                        reader.Skip();
                    }
                }
            }
        }
        catch (JsonException)
        {
        }

        return "unreadable";
    }

    private async Task ReportProgressAsync(TextWriter progress, CancellationToken quiet)
    {
        using var timer = new PeriodicTimer(_options.Progress);
        var lastAnswered = 0L;
        var last = Stopwatch.GetTimestamp();
        try
        {
            while (await timer.WaitForNextTickAsync(quiet))
            {
                var now = Stopwatch.GetTimestamp();
                var answered = _results.Answered;
                var perSecond = (answered - lastAnswered) / Stopwatch.GetElapsedTime(last, now).TotalSeconds;
                await progress.WriteLineAsync(FormattableString.Invariant(
                    $"[{Elapsed.TotalSeconds,7:F1} s] sent {_results.Sent}, answered {answered} ({perSecond:F0}/s), errors {_results.Errors}, in flight {_results.Sent - answered - _results.Errors}"));
                (lastAnswered, last) = (answered, now);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public void Dispose() => _http.Dispose();
}
