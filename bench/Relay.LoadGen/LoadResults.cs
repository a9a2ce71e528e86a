using System.Collections.Concurrent;
using System.Globalization;
using HdrHistogram;

namespace Relay.LoadGen;

/// <summary>What the senders observed, recorded from many threads at once.</summary>
internal sealed class LoadResults
{
    /// <summary>Latencies are recorded in microseconds, from 1 µs to an hour, to 3 significant digits.</summary>
    private const long HighestMicros = 3_600_000_000;

    private readonly LongConcurrentHistogram _latencyMicros = new(1, HighestMicros, 3);
    private readonly ConcurrentDictionary<string, long> _byHttpStatus = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _byMessageStatus = new(StringComparer.Ordinal);
    private long _sent;
    private long _answered;
    private long _errors;

    public long Sent => Interlocked.Read(ref _sent);
    public long Answered => Interlocked.Read(ref _answered);
    public long Errors => Interlocked.Read(ref _errors);

    public HistogramBase Latency => _latencyMicros;

    public IReadOnlyDictionary<string, long> ByHttpStatus => Sorted(_byHttpStatus);
    public IReadOnlyDictionary<string, long> ByMessageStatus => Sorted(_byMessageStatus);

    public void RecordSent() => Interlocked.Increment(ref _sent);

    /// <summary>
    /// An HTTP answer, whatever its status; <paramref name="messageStatus"/> when its body carried one. Its latency goes
    /// into the percentiles unless <paramref name="inPercentiles"/> is false (a message of the generator's warm-up).
    /// </summary>
    public void RecordAnswer(TimeSpan latency, int httpStatus, string? messageStatus, bool inPercentiles = true)
    {
        if (inPercentiles)
        {
            _latencyMicros.RecordValue(Math.Clamp((long)latency.TotalMicroseconds, 1, HighestMicros));
        }

        Interlocked.Increment(ref _answered);
        _byHttpStatus.AddOrUpdate(httpStatus.ToString(CultureInfo.InvariantCulture), 1, (_, n) => n + 1);
        if (messageStatus is not null)
        {
            _byMessageStatus.AddOrUpdate(messageStatus, 1, (_, n) => n + 1);
        }
    }

    /// <summary>No HTTP answer: connection refused or reset, timeout. Counted under <c>error:&lt;kind&gt;</c>.</summary>
    public void RecordError(string kind)
    {
        Interlocked.Increment(ref _errors);
        _byHttpStatus.AddOrUpdate("error:" + kind, 1, (_, n) => n + 1);
    }

    private static SortedDictionary<string, long> Sorted(ConcurrentDictionary<string, long> counts) =>
        new(counts.ToDictionary(), StringComparer.Ordinal);
}
