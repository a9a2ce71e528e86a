namespace Relay.Silo.Telemetry;

/// <summary><c>Relay:Telemetry</c>: where traces (and metrics) go besides <c>GET /metrics</c>.</summary>
public sealed class TelemetryOptions
{
    public const string SectionName = "Relay:Telemetry";

    /// <summary>
    /// The base address of an OTLP/HTTP receiver (an OpenTelemetry Collector, Jaeger, Tempo...), such as
    /// <c>http://collector:4318</c>: spans are posted to <c>/v1/traces</c> and metrics to <c>/v1/metrics</c>, as
    /// protobuf. Unset (the default): nothing is exported, unless the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>
    /// (or <c>OTEL_EXPORTER_OTLP_TRACES_ENDPOINT</c>) variables say where, with their own <c>OTEL_*</c> settings.
    /// </summary>
    public Uri? OtlpEndpoint { get; set; }

    /// <summary>
    /// How old the figures of the <c>relay.deliveries</c> gauge may get: a scrape reads them from memory and, when
    /// they are older than this, asks the store once for fresh ones (one query per interval at most, whatever the
    /// number of scrapes).
    /// </summary>
    public TimeSpan DeliveryCountsRefresh { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary><c>Relay:Dashboard</c>: the Orleans Dashboard at <c>/dashboard</c>.</summary>
public sealed class DashboardSettings
{
    public const string SectionName = "Relay:Dashboard";

    /// <summary>
    /// Serve the Orleans Dashboard at <c>/dashboard</c> (operators only). <c>false</c>: not served, and none of its
    /// collection runs (its grain-call filter, its 1-second counter sampling, its log stream).
    /// </summary>
    public bool Enabled { get; set; } = true;
}
