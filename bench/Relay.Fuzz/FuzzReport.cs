using System.Text.Json;
using System.Text.Json.Serialization;

namespace Relay.Fuzz;

/// <summary>What one run sent, what came back, and what the checks found.</summary>
internal sealed class FuzzReport
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public int Seed { get; init; }
    public long Requests { get; init; }
    public double Seconds { get; init; }
    public double RequestsPerSecond { get; init; }
    /// <summary>"door outcome" → count, e.g. "json 400", "soap 500-client-fault", "json transport:timeout".</summary>
    public required SortedDictionary<string, long> ByStatus { get; init; }
    public required SortedDictionary<string, KindCount> ByKind { get; init; }
    public required AfterChecks Checks { get; init; }
    public MemoryFigures? Memory { get; init; }
    /// <summary>Kind → the first connection error or timeout of that kind (not findings: the server may close a connection).</summary>
    public required SortedDictionary<string, string> TransportErrors { get; init; }
    public long FindingCount { get; init; }
    public required IReadOnlyList<Finding> Findings { get; init; }

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public string ToText()
    {
        var lines = new List<string>
        {
            $"relay-fuzz seed {Seed}: {Requests:N0} requests in {Seconds} s ({RequestsPerSecond:N0}/s)",
            "answers: " + string.Join(", ", ByStatus.Select(s => $"{s.Key} {s.Value:N0}")),
            $"accepted {Checks.Accepted:N0}; arrived at the destination {Checks.Arrivals:N0} ({Checks.UnexpectedArrivals} never accepted); " +
            $"refused with a tracked id {Checks.Refused:N0}, {Checks.RefusedChecked:N0} looked up: {Checks.RefusedStored} stored, {Checks.RefusedSent} sent; entities fetched {Checks.EntityFetches}; " +
            $"outcome unknown (transport) {Checks.Unknown:N0}; /health {Checks.Health}" + (Checks.Alive is { } alive ? $"; silo alive {alive}" : ""),
        };
        if (Memory is { } memory)
        {
            lines.Add($"silo RSS: {memory.SecondQuarterMb} MiB (2nd quarter median) → {memory.LastQuarterMb} MiB (last quarter), max {memory.MaxMb} MiB, growth {memory.Growth}x over {memory.Samples} samples");
        }

        lines.AddRange(TransportErrors.Select(t => $"  transport error, {t.Key}: {t.Value}"));
        lines.Add($"findings: {FindingCount}");
        lines.AddRange(Findings.Select(f => $"  #{f.Index} {f.Kind} {f.Path} -> {f.Status}: {f.What}"));
        return string.Join(Environment.NewLine, lines);
    }
}

/// <summary>Counts of one kind of case by outcome.</summary>
internal sealed class KindCount
{
    private long _total;

    public long Total => Interlocked.Read(ref _total);

    [JsonPropertyName("outcomes")]
    public SortedDictionary<string, long> Outcomes { get; } = new(StringComparer.Ordinal);

    public void Add(string outcome)
    {
        Interlocked.Increment(ref _total);
        lock (Outcomes)
        {
            Outcomes[outcome] = Outcomes.GetValueOrDefault(outcome) + 1;
        }
    }
}

internal sealed record Finding(long Index, string Kind, string Path, int Status, string What, string RequestBase64);

internal sealed record AfterChecks(
    int Accepted, int Arrivals, int UnexpectedArrivals, int Refused, int RefusedChecked, int RefusedStored, int RefusedSent,
    int EntityFetches, int Unknown, bool? Alive, int Health);

internal sealed record MemoryFigures(int Samples, double SecondQuarterMb, double LastQuarterMb, double MaxMb, double Growth);
