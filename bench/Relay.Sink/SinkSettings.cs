using System.Globalization;

namespace Relay.Sink;

/// <summary>How the sink answers: its latency, the share of deliveries it fails with 503, and whether it is down.</summary>
internal sealed class SinkSettings
{
    /// <summary>Time spent before answering, in milliseconds (default 1).</summary>
    public double LatencyMs { get; set; } = 1;

    /// <summary>Share of deliveries answered 503 at random, 0 to 1 (default 0).</summary>
    public double FailureRate { get; set; }

    /// <summary>When true every delivery is answered 503 at once (an outage); default false.</summary>
    public bool Down { get; set; }

    public static SinkSettings FromConfiguration(IConfiguration configuration) => new()
    {
        LatencyMs = double.Parse(configuration["latency-ms"] ?? "1", CultureInfo.InvariantCulture),
        FailureRate = double.Parse(configuration["failure-rate"] ?? "0", CultureInfo.InvariantCulture),
        Down = configuration["down"] is { } down && (down.Length == 0 || bool.Parse(down)),
    };

    public object Describe() => new { latencyMs = LatencyMs, failureRate = FailureRate, down = Down };
}
