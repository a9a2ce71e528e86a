using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using HdrHistogram;

namespace Relay.Sink;

/// <summary>
/// Answers deliveries as <see cref="SinkSettings"/> say and records each one that it answered 200: its id (the
/// <c>Idempotency-Key</c>, else the payload's first word), arrival time, the attempt number (<c>X-Relay-Attempt</c>),
/// and the time from send to arrival, read from the payload stamp the load generator writes ("id sentUnixMicros ...").
/// Since the last reset only ids with the reset's prefix count: a late retry of an earlier scenario is answered but
/// not mixed into the figures of the current one.
/// </summary>
internal sealed class SinkRecorder(TimeProvider time, SinkSettings settings)
{
    private const long HighestMicros = 3_600_000_000;
    private readonly object _gate = new();
    private ConcurrentDictionary<string, int> _arrivals = new(StringComparer.Ordinal);
    // Recorded and read under _gate: reading a histogram while another thread records into it can throw.
    private LongHistogram _endToEndMicros = new(1, HighestMicros, 3);
    private ConcurrentDictionary<long, long> _perSecond = new();
    private long _delivered;
    private long _duplicates;
    private long _refused;
    private long _ignored;
    private volatile string? _prefix;
    private long _firstMs = long.MaxValue;
    private long _lastMs;
    private long _maxAttempt;

    public async Task<IResult> HandleAsync(HttpRequest request)
    {
        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync(request.HttpContext.RequestAborted);
        var stamp = Stamp.Parse(body);
        var id = request.Headers["Idempotency-Key"].FirstOrDefault() ?? stamp.Id ?? "?";
        // Deliveries of an earlier scenario (a retry that comes late) are answered alike but not counted.
        var counted = _prefix is not { } prefix || id.StartsWith(prefix, StringComparison.Ordinal);
        if (!counted)
        {
            Interlocked.Increment(ref _ignored);
        }

        if (settings.Down)
        {
            if (counted)
            {
                Interlocked.Increment(ref _refused);
            }

            return Results.StatusCode(503);
        }

        if (settings.LatencyMs > 0)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(settings.LatencyMs), request.HttpContext.RequestAborted);
        }

        if (settings.FailureRate > 0 && Random.Shared.NextDouble() < settings.FailureRate)
        {
            if (counted)
            {
                Interlocked.Increment(ref _refused);
            }

            return Results.StatusCode(503);
        }

        if (counted)
        {
            var nowMicros = (time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks / TimeSpan.TicksPerMicrosecond;
            Record(id, nowMicros, stamp.SentMicros, int.TryParse(request.Headers["X-Relay-Attempt"], out var attempt) ? attempt : 1);
        }

        return Results.Ok();
    }

    private void Record(string id, long nowMicros, long? sentMicros, int attempt)
    {
        var arrivals = _arrivals;
        if (arrivals.AddOrUpdate(id, 1, (_, n) => n + 1) > 1)
        {
            Interlocked.Increment(ref _duplicates);
        }

        Interlocked.Increment(ref _delivered);
        var nowMs = nowMicros / 1000;
        InterlockedMin(ref _firstMs, nowMs);
        InterlockedMax(ref _lastMs, nowMs);
        InterlockedMax(ref _maxAttempt, attempt);
        _perSecond.AddOrUpdate(nowMs / 1000, 1, (_, n) => n + 1);
        if (sentMicros is { } sent && nowMicros >= sent)
        {
            lock (_gate)
            {
                _endToEndMicros.RecordValue(Math.Clamp(nowMicros - sent, 1, HighestMicros));
            }
        }
    }

    /// <summary>Forgets what arrived; from now on only ids starting with <paramref name="prefix"/> (when given) are counted.</summary>
    public void Reset(string? prefix)
    {
        lock (_gate)
        {
            _prefix = string.IsNullOrEmpty(prefix) ? null : prefix;
            Interlocked.Exchange(ref _ignored, 0);
            _arrivals = new(StringComparer.Ordinal);
            _endToEndMicros = new(1, HighestMicros, 3);
            _perSecond = new();
            Interlocked.Exchange(ref _delivered, 0);
            Interlocked.Exchange(ref _duplicates, 0);
            Interlocked.Exchange(ref _refused, 0);
            Interlocked.Exchange(ref _firstMs, long.MaxValue);
            Interlocked.Exchange(ref _lastMs, 0);
            Interlocked.Exchange(ref _maxAttempt, 0);
        }
    }

    public string StatsJson()
    {
        HistogramBase h;
        lock (_gate)
        {
            h = _endToEndMicros.Copy();
        }

        static double Ms(long micros) => Math.Round(micros / 1000.0, 3);
        var first = Interlocked.Read(ref _firstMs);
        var perSecond = _perSecond.OrderBy(kv => kv.Key).Select(kv => new[] { kv.Key, kv.Value }).ToArray();
        var stats = new Dictionary<string, object?>
        {
            ["delivered"] = Interlocked.Read(ref _delivered),
            ["unique"] = _arrivals.Count,
            ["duplicates"] = Interlocked.Read(ref _duplicates),
            ["refused"] = Interlocked.Read(ref _refused),
            ["ignored"] = Interlocked.Read(ref _ignored),
            ["firstArrivalUnixMs"] = first == long.MaxValue ? null : first,
            ["lastArrivalUnixMs"] = first == long.MaxValue ? null : Interlocked.Read(ref _lastMs),
            ["maxAttempt"] = Interlocked.Read(ref _maxAttempt),
            ["endToEndMs"] = h.TotalCount == 0 ? null : new Dictionary<string, double>
            {
                ["count"] = h.TotalCount,
                ["p50"] = Ms(h.GetValueAtPercentile(50)),
                ["p99"] = Ms(h.GetValueAtPercentile(99)),
                ["p999"] = Ms(h.GetValueAtPercentile(99.9)),
                ["max"] = Ms(h.GetMaxValue()),
            },
            // [unix second, deliveries answered 200 in it]
            ["perSecond"] = perSecond,
        };
        return JsonSerializer.Serialize(stats);
    }

    public string IdsText()
    {
        var text = new StringBuilder();
        foreach (var id in _arrivals.Keys)
        {
            text.Append(id).Append('\n');
        }

        return text.ToString();
    }

    private static void InterlockedMin(ref long target, long value)
    {
        var current = Interlocked.Read(ref target);
        while (value < current && Interlocked.CompareExchange(ref target, value, current) != current)
        {
            current = Interlocked.Read(ref target);
        }
    }

    private static void InterlockedMax(ref long target, long value)
    {
        var current = Interlocked.Read(ref target);
        while (value > current && Interlocked.CompareExchange(ref target, value, current) != current)
        {
            current = Interlocked.Read(ref target);
        }
    }

    /// <summary>The load generator's payload stamp: "&lt;id&gt; &lt;sent, Unix microseconds&gt; padding".</summary>
    private readonly record struct Stamp(string? Id, long? SentMicros)
    {
        public static Stamp Parse(string body)
        {
            var parts = body.Split(' ', 3);
            return parts.Length >= 2 && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var sent)
                ? new Stamp(parts[0], sent)
                : new Stamp(parts.Length > 0 ? parts[0] : null, null);
        }
    }
}
