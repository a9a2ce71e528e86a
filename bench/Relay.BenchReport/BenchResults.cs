using System.Globalization;
using System.Text.Json.Nodes;

namespace Relay.BenchReport;

/// <summary>The results JSON of one bench/run.sh run (see bench/README.md), read leniently: a scenario may be missing.</summary>
internal sealed class BenchResults(JsonObject root)
{
    /// <summary>The scenarios in the order the report shows them, with their titles.</summary>
    public static readonly (string Key, string Title)[] Throughput =
    [
        ("floor", "0. floor: storage-less forwarding proxy"),
        ("embedded", "1. embedded (SQLite), 1 silo, JSON"),
        ("soap", "1b. embedded, 1 silo, SOAP front door"),
        ("pg1", "2. PostgreSQL, 1 silo"),
        ("pg3", "2. PostgreSQL, 3 silos"),
        ("hangfire", "6. Hangfire (PostgreSQL)"),
    ];

    public static readonly (string Key, string Title)[] Latency =
    [
        ("latency_floor", "3. floor: storage-less forwarding proxy"),
        ("latency_embedded", "3. embedded, 1 silo"),
        ("latency_cluster3", "3. PostgreSQL, 3 silos"),
    ];

    public JsonObject Root => root;

    public string Text(string name) => root[name]?.ToString() ?? "?";

    public JsonObject? Scenario(string key) => root["scenarios"]?[key] as JsonObject;

    /// <summary>A number at a dotted path under a scenario ("syncLatencyMs.p99"), or null.</summary>
    public double? Number(string scenario, string path)
    {
        JsonNode? node = Scenario(scenario);
        foreach (var part in path.Split('.'))
        {
            node = node?[part];
        }

        return node is JsonValue value && value.TryGetValue<double>(out var number) ? number : null;
    }

    public static string Format(double? value, string format = "N0") =>
        value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "-";
}
