using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Relay.LoadGen;

/// <summary>
/// One run: the closed loop (C senders, each sending its next message when the last is answered) or the open loop
/// (one message every 1/R s on a fixed schedule, however long the answers take).
/// </summary>
internal sealed class LoadRun : IDisposable
{
    private static readonly MediaTypeHeaderValue Json = new("application/json") { CharSet = "utf-8" };
    private static readonly MediaTypeHeaderValue Xml = new("text/xml") { CharSet = "utf-8" };
    private const string SoapSendAction = "\"urn:relay:messaging:v1/IMessagingService/Send\"";

    private readonly LoadOptions _options;
    private readonly LoadResults _results = new();
    private readonly HttpClient _http;
    private readonly ConcurrentQueue<string> _acked = new();
    private readonly ConcurrentQueue<(double SlotMs, double LatencyMs, int Status)> _latencies = new();
    private long _started;
    private long _finished;

    private LoadRun(LoadOptions options)
    {
        _options = options;
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

    /// <summary>Ids of the messages answered 200 or 202 (recorded only with <c>--acked</c>).</summary>
    public IReadOnlyCollection<string> Acked => _acked;

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
    public static async Task<(LoadResults Results, TimeSpan Elapsed, IReadOnlyCollection<string> Acked, IReadOnlyCollection<(double SlotMs, double LatencyMs, int Status)> Latencies)> RunAsync(LoadOptions options, TextWriter progress, CancellationToken stop)
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
        return (run._results, run.Elapsed, run._acked, run._latencies);
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

            // Past the cap the message is counted, not sent: an overloaded server shows as errors, and the generator
            // does not pile up tens of thousands of connections until it runs out of memory itself.
            if (Interlocked.Read(ref outstanding) - 1 >= _options.MaxInFlight)
            {
                _results.RecordSent();
                _results.RecordError("ClientBacklog");
                continue;
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
        var id = $"{_options.IdPrefix}-{index}";
        var payload = StampedPayload(id, _options.PayloadBytes);
        using var request = _options.Soap ? SoapRequest(index, id, payload) : JsonRequest(index, id, payload);
        _results.RecordSent();
        try
        {
            // Requests under way are not cancelled by a stop: their answers still count. The client's Timeout bounds them.
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, CancellationToken.None);
            var answer = await response.Content.ReadAsByteArrayAsync(CancellationToken.None);
            var latency = Stopwatch.GetElapsedTime(intended);
            var slot = Stopwatch.GetElapsedTime(_started, intended);
            _results.RecordAnswer(latency, (int)response.StatusCode, response.IsSuccessStatusCode ? (_options.Soap ? SoapStatus(answer) : MessageStatus(answer)) : null,
                inPercentiles: slot >= _options.LatencySkip);
            if (_options.LatencyLogFile is not null)
            {
                _latencies.Enqueue((slot.TotalMilliseconds, latency.TotalMilliseconds, (int)response.StatusCode));
            }
            if (_options.AckedFile is not null && (int)response.StatusCode is 200 or 202)
            {
                _acked.Enqueue(id);
            }
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

    /// <summary>
    /// "&lt;id&gt; &lt;sent, Unix microseconds&gt; xxx…", padded to <paramref name="bytes"/>: the benchmark's sink reads
    /// the stamp to measure the time from send to arrival (same machine, same clock).
    /// </summary>
    internal static string StampedPayload(string id, int bytes)
    {
        var sentMicros = (TimeProvider.System.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks / TimeSpan.TicksPerMicrosecond;
        var stamp = string.Create(CultureInfo.InvariantCulture, $"{id} {sentMicros} ");
        return stamp.Length >= bytes ? stamp : stamp + new string('x', bytes - stamp.Length);
    }

    private HttpRequestMessage JsonRequest(long index, string id, string payload)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(
            new MessageRequest(id, _options.Destination, payload, "text/plain", _options.Contract),
            LoadJson.Default.MessageRequest);
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_options.Urls[(int)(index % _options.Urls.Count)], "messages"))
        {
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = Json;
        return request;
    }

    /// <summary>The SOAP 1.1 <c>Send</c> of docs/SOAP.md, as a WCF <c>BasicHttpBinding</c> client sends it.</summary>
    private HttpRequestMessage SoapRequest(long index, string id, string payload)
    {
        var contract = _options.Contract is { } c ? $"<Contract>{SecurityElement.Escape(c)}</Contract>" : "";
        var envelope =
            "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><Send xmlns=\"urn:relay:messaging:v1\"><request>" +
            $"<Id>{SecurityElement.Escape(id)}</Id><Destination>{SecurityElement.Escape(_options.Destination)}</Destination>" +
            $"<Payload>{SecurityElement.Escape(payload)}</Payload><ContentType>text/plain</ContentType>{contract}" +
            "</request></Send></s:Body></s:Envelope>";
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_options.Urls[(int)(index % _options.Urls.Count)], "Messaging.svc"))
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes(envelope)),
        };
        request.Content.Headers.ContentType = Xml;
        request.Headers.TryAddWithoutValidation("SOAPAction", SoapSendAction);
        return request;
    }

    /// <summary>The message's <c>Status</c> in a SOAP <c>SendResult</c> (its first Status element).</summary>
    private static string SoapStatus(byte[] answer)
    {
        var match = Regex.Match(Encoding.UTF8.GetString(answer), @"<(?:\w+:)?Status>(\w+)</", RegexOptions.None, TimeSpan.FromSeconds(1));
        return match.Success ? match.Groups[1].Value : "unreadable";
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
