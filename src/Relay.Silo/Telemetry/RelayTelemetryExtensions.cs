using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Orleans.Dashboard;
using Relay.Core.Telemetry;
using Relay.Silo.Security;

namespace Relay.Silo.Telemetry;

/// <summary>
/// Metrics (<c>GET /metrics</c>, Prometheus text), traces (OTLP when configured) and the Orleans Dashboard
/// (<c>/dashboard</c>), all through OpenTelemetry's SDK; docs/OPERATIONS.md says what each publishes.
/// </summary>
public static class RelayTelemetryExtensions
{
    public const string MetricsPath = "/metrics";
    public const string DashboardPath = "/dashboard";

    /// <summary>Meters exported besides Relay's own: Orleans's, ASP.NET Core's, HttpClient's and the runtime's (all built in).</summary>
    private static readonly string[] OtherMeters =
    [
        "Microsoft.Orleans",
        "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Server.Kestrel",
        "System.Net.Http",
        "System.Runtime",
    ];

    public static WebApplicationBuilder AddRelayTelemetry(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var section = configuration.GetSection(TelemetryOptions.SectionName);
        var telemetry = section.Get<TelemetryOptions>() ?? new TelemetryOptions();
        var services = builder.Services;
        services.AddOptions<TelemetryOptions>().Bind(section);
        services.AddOptions<MetricsOptions>().Bind(configuration.GetSection(MetricsOptions.SectionName));
        services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationHandler, MetricsAccessHandler>();
        services.AddAuthorizationBuilder()
            .AddPolicy(RelayAuth.MetricsPolicy, policy => policy.AddRequirements(new MetricsAccessRequirement()));
        services.AddOptions<DashboardSettings>().Bind(configuration.GetSection(DashboardSettings.SectionName));
        services.TryAddSingleton<RelayMetrics>();
        services.AddSingleton<DeliveryCountsGauge>();

        // The standard variables (read by the SDK from the configuration, environment included) switch export on too.
        var standardEndpoint = Set(configuration, "OTEL_EXPORTER_OTLP_ENDPOINT");
        var exportTraces = telemetry.OtlpEndpoint is not null || standardEndpoint || Set(configuration, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
        var standardMetrics = standardEndpoint || Set(configuration, "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT");

        var otel = services.AddOpenTelemetry();
        if (string.IsNullOrWhiteSpace(configuration["OTEL_SERVICE_NAME"]))
        {
            otel.ConfigureResource(resource => resource.AddService("relay"));
        }

        otel.WithMetrics(metrics =>
        {
            metrics.AddMeter([RelayTelemetry.Name, .. OtherMeters]);
            // No response cache: a scrape aggregates in memory only (the delivery gauge has its own cache), and a
            // cached answer would hide a change made a moment before.
            metrics.AddPrometheusExporter(prometheus => prometheus.ScrapeResponseCacheDurationMilliseconds = 0);
            if (telemetry.OtlpEndpoint is { } endpoint)
            {
                metrics.AddOtlpExporter(otlp => Configure(otlp, endpoint, "v1/metrics"));
            }
            else if (standardMetrics)
            {
                metrics.AddOtlpExporter();
            }
        });

        // Without an exporter no span is recorded (no listener, no cost); a trace the application sent is still
        // passed on to destinations (RelayTelemetry.StartAttempt).
        if (exportTraces)
        {
            otel.WithTracing(tracing =>
            {
                tracing.AddSource(RelayTelemetry.Name, "Microsoft.AspNetCore", "System.Net.Http");
                if (telemetry.OtlpEndpoint is { } endpoint)
                {
                    tracing.AddOtlpExporter(otlp => Configure(otlp, endpoint, "v1/traces"));
                }
                else
                {
                    tracing.AddOtlpExporter();
                }
            });
        }

        return builder;
    }

    /// <summary>The Orleans Dashboard's collection on this silo, unless <c>Relay:Dashboard:Enabled</c> is false.</summary>
    public static ISiloBuilder AddRelayDashboard(this ISiloBuilder silo, IConfiguration configuration)
    {
        if (configuration.GetSection(DashboardSettings.SectionName).Get<DashboardSettings>()?.Enabled ?? true)
        {
            silo.AddDashboard();
            DashboardProfilingFilter.Replace(silo.Services);
        }

        return silo;
    }

    /// <summary><c>GET /metrics</c> (operators, the scrape key, allowed networks) and <c>/dashboard</c> (operators).</summary>
    public static WebApplication MapRelayTelemetry(this WebApplication app)
    {
        // Created now, so the gauge is published from the first scrape.
        app.Services.GetRequiredService<DeliveryCountsGauge>();
        app.MapPrometheusScrapingEndpoint(MetricsPath).RequireAuthorization(RelayAuth.MetricsPolicy);
        if (app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<DashboardSettings>>().Value.Enabled)
        {
            // A browser signs in through the portal (its cookie); a script uses an operator key. The dashboard's own
            // API calls (/dashboard/DashboardCounters, ...) are in this group, so they are covered too.
            app.MapOrleansDashboard(DashboardPath).RequireAuthorization(RelayAuth.PortalPolicy);
        }

        return app;
    }

    private static bool Set(IConfiguration configuration, string key) => !string.IsNullOrWhiteSpace(configuration[key]);

    /// <summary>OTLP/HTTP with protobuf at <paramref name="endpoint"/>/<paramref name="path"/> (set in code, the SDK appends no path).</summary>
    private static void Configure(OtlpExporterOptions otlp, Uri endpoint, string path)
    {
        otlp.Protocol = OtlpExportProtocol.HttpProtobuf;
        otlp.Endpoint = new Uri(endpoint.ToString().TrimEnd('/') + "/" + path);
    }
}
