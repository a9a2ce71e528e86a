using System.Diagnostics.Metrics;

namespace Relay.Core.Telemetry;

/// <summary>
/// The storage's group commits, as both backends' writers record them: how long each transaction took and how many
/// writes it carried (docs/OPERATIONS.md, "Metrics"). A send waits for one or two of these transactions, so their
/// duration is the storage's share of the sync answer's latency; a slow disk shows here first (an embedded silo's
/// commit with <c>synchronous=FULL</c> waits for the disk's <c>fsync</c>).
/// </summary>
public static class RelayStorageMetrics
{
    /// <summary>The <c>relay.storage</c> attribute of an embedded silo's transactions.</summary>
    public const string Sqlite = "sqlite";

    /// <summary>The <c>relay.storage</c> attribute of a PostgreSQL silo's transactions.</summary>
    public const string PostgreSql = "postgresql";

    private static readonly Meter Meter = new(RelayTelemetry.Name);

    private static readonly Histogram<double> TransactionDuration = Meter.CreateHistogram(
        "relay.storage.transaction.duration", "s",
        "How long one group-commit transaction of the storage writer took, from its first statement until its commit returned (the disk's fsync included).",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });

    private static readonly Histogram<int> TransactionWrites = Meter.CreateHistogram(
        "relay.storage.transaction.writes", "{write}",
        "Writes (grain states with their index rows and audit) one group-commit transaction carried.",
        advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512] });

    private static readonly Counter<long> WalRestarts = Meter.CreateCounter<long>(
        "relay.storage.wal.restarts", "{restart}",
        "Times the embedded database's write-ahead log was folded whole into the database file so that it started over (once per 64 MiB of log under load).");

    /// <summary>The embedded database's write-ahead log was folded whole and starts over at the next commit.</summary>
    public static void WalRestarted() => WalRestarts.Add(1);

    /// <summary>A transaction of <paramref name="writes"/> writes committed after <paramref name="duration"/>.</summary>
    public static void Committed(string storage, TimeSpan duration, int writes)
    {
        var tag = new KeyValuePair<string, object?>("relay.storage", storage);
        TransactionDuration.Record(duration.TotalSeconds, tag);
        TransactionWrites.Record(writes, tag);
    }
}
