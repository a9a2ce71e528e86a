using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Relay.LoadGen;

/// <summary>The body of one <c>POST /messages</c> (docs/API.md).</summary>
internal sealed record MessageRequest(string Id, string Destination, string Payload, string ContentType, string? Contract);

/// <summary>Answer latency in milliseconds, over every HTTP answer (transport errors have none).</summary>
internal sealed record LatencySummary(long Count, double Mean, double P50, double P90, double P99, double P999, double Max);

/// <summary>The summary of a run, as printed and as written by <c>--json</c>.</summary>
internal sealed record LoadReport(
    DateTimeOffset StartedAt,
    string Mode,
    int? Concurrency,
    double? Rate,
    IReadOnlyList<string> Urls,
    string Destination,
    string? Contract,
    int PayloadBytes,
    string IdPrefix,
    long Sent,
    long Answered,
    long Errors,
    double ElapsedSeconds,
    double AnswersPerSecond,
    LatencySummary LatencyMs,
    double LatencySkipSeconds,
    IReadOnlyDictionary<string, long> ByHttpStatus,
    IReadOnlyDictionary<string, long> ByMessageStatus)
{
    public static LoadReport From(LoadOptions options, DateTimeOffset startedAt, LoadResults results, TimeSpan elapsed)
    {
        var h = results.Latency;
        static double Ms(long micros) => Math.Round(micros / 1000.0, 3);
        var latency = h.TotalCount == 0
            ? new LatencySummary(0, 0, 0, 0, 0, 0, 0)
            : new LatencySummary(
                h.TotalCount,
                Math.Round(HdrHistogram.HistogramExtensions.GetMean(h) / 1000.0, 3),
                Ms(h.GetValueAtPercentile(50)),
                Ms(h.GetValueAtPercentile(90)),
                Ms(h.GetValueAtPercentile(99)),
                Ms(h.GetValueAtPercentile(99.9)),
                Ms(HdrHistogram.HistogramExtensions.GetMaxValue(h)));
        return new LoadReport(
            startedAt,
            options.OpenLoop ? "open" : "closed",
            options.OpenLoop ? null : options.Concurrency,
            options.Rate,
            options.Urls.Select(u => u.ToString()).ToList(),
            options.Destination,
            options.Contract,
            options.PayloadBytes,
            options.IdPrefix,
            results.Sent,
            results.Answered,
            results.Errors,
            Math.Round(elapsed.TotalSeconds, 3),
            elapsed > TimeSpan.Zero ? Math.Round(results.Answered / elapsed.TotalSeconds, 1) : 0,
            latency,
            options.LatencySkip.TotalSeconds,
            results.ByHttpStatus,
            results.ByMessageStatus);
    }

    public string ToJson() => JsonSerializer.Serialize(this, LoadJson.Default.LoadReport);

    public string ToText()
    {
        var text = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        var loop = Mode == "open" ? $"open loop at {Rate} msg/s" : $"closed loop, concurrency {Concurrency}";
        text.AppendLine(inv, $"Relay load: {Sent} messages to '{Destination}' over {Urls.Count} silo(s), {loop}, payload {PayloadBytes} B, ids {IdPrefix}-*");
        text.AppendLine(inv, $"  elapsed      {ElapsedSeconds:F1} s, {AnswersPerSecond:F1} answers/s");
        var l = LatencyMs;
        text.AppendLine(inv, $"  latency ms   p50 {l.P50:F2}  p90 {l.P90:F2}  p99 {l.P99:F2}  p99.9 {l.P999:F2}  max {l.Max:F2}  mean {l.Mean:F2}  (n={l.Count}{(LatencySkipSeconds > 0 ? $", the first {LatencySkipSeconds:0.###} s left out" : "")})");
        text.AppendLine(inv, $"  HTTP         {Counts(ByHttpStatus)}");
        text.Append(inv, $"  message      {Counts(ByMessageStatus)}");
        return text.ToString();
    }

    private static string Counts(IReadOnlyDictionary<string, long> counts) =>
        counts.Count == 0 ? "-" : string.Join(", ", counts.Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key}: {kv.Value}")));
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(MessageRequest))]
[JsonSerializable(typeof(LoadReport))]
internal sealed partial class LoadJson : JsonSerializerContext;
