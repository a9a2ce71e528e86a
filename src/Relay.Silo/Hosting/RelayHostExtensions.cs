using System.Text.Json.Serialization;
using Microsoft.Extensions.Configuration.Json;
using System.Net;
using Orleans.Configuration;
using Orleans.Storage;
using Relay.Storage.AdoNet;
using Relay.Adapters;
using Relay.Core.Options;
using Relay.Core.Topics;
using Relay.Grains;
using Relay.Silo.Api;
using Relay.Silo.Catalog;
using Relay.Silo.Cluster;
using Relay.Silo.Ebms;
using Relay.Silo.Health;
using Relay.Silo.Portal;
using Relay.Silo.Samples;
using Relay.Silo.Security;
using Relay.Silo.Soap;
using Relay.Silo.Telemetry;
using Relay.Storage.Sqlite;

namespace Relay.Silo.Hosting;

public static class RelayHostExtensions
{
    /// <summary>
    /// Everything a Relay silo needs: configuration (with <c>--config FILE</c>), validated before anything
    /// starts; the Orleans silo with Relay's grains, storage and reminders; the protocol adapters; the API.
    /// </summary>
    /// <exception cref="RelayConfigurationException">The configuration cannot run.</exception>
    public static WebApplicationBuilder AddRelay(this WebApplicationBuilder builder)
    {
        AddConfigFile(builder);
        var services = builder.Services;
        // The adapters first: each brings its protocol, which binds and checks the destinations of that protocol.
        services.AddRelayAdapters();
        var protocols = services.RegisteredProtocols();
        var section = builder.Configuration.GetSection(RelayOptions.SectionName);
        var options = Bind(section, protocols);
        var problems = RelayOptionsValidator.Validate(options, protocols)
            .Concat(SecurityOptions.Validate(builder.Configuration.GetSection(SecurityOptions.SectionName)))
            .Concat(FailedAuthOptions.Validate(builder.Configuration.GetSection(FailedAuthOptions.SectionName)))
            .Concat(ForwardedHeadersSettings.Validate(builder.Configuration.GetSection(ForwardedHeadersSettings.SectionName)))
            .Concat(Limits.ClientLimitOptions.Validate(builder.Configuration.GetSection(Limits.ClientLimitOptions.SectionName)))
            .Concat(MetricsOptions.Validate(builder.Configuration.GetSection(MetricsOptions.SectionName)))
            .Concat(HealthOptions.Validate(builder.Configuration.GetSection(HealthOptions.SectionName))).ToList();
        var (clusterTls, tlsProblems) = ClusterTls.Load(builder.Configuration.GetSection(ClusterTlsOptions.SectionName), options);
        problems.AddRange(tlsProblems);
        if (problems.Count > 0 || clusterTls is null)
        {
            throw new RelayConfigurationException(problems);
        }

        builder.AddRelaySecurity();
        Limits.ClientLimitsExtensions.AddRelayClientLimits(builder);
        builder.AddRelayTelemetry();
        builder.AddRelayHealth();
        services.AddOptions<RelayOptions>().Bind(section)
            .PostConfigure(o =>
            {
                DestinationProtocols.Bind(section.GetSection(nameof(RelayOptions.Destinations)), protocols, o.Destinations);
                TopicsBinding.Bind(section.GetSection(nameof(RelayOptions.Topics)), o.Topics);
            });
        // After the binding above: the catalog's entries replace configuration's once it has been read.
        services.AddRelayCatalog();
        // The topics' filters, compiled once per catalog version: every message sent to a topic is routed with them.
        services.AddSingleton<Catalog.CurrentTopicRoutes>();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<Messaging.MessageService>();
        services.AddSingleton<Ebms.IEbmsAcknowledgments, Ebms.GrainEbmsAcknowledgments>();
        services.AddSingleton<Operating.OperatorActions>();
        services.AddRelayPortal();
        services.AddRelaySoapFrontDoor();
        services.AddRelayApiReference();
        services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.Converters.Add(new JsonStringEnumConverter());
        });
        services.AddProblemDetails();

        // Bodies are read by the endpoints within this bound (a base64 payload at the limit, plus the rest of the message).
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = (long)options.Limits.MaxPayloadBytes * 4 / 3 + 256 * 1024;
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(30);
            kestrel.Limits.KeepAliveTimeout = TimeSpan.FromMinutes(2);
            kestrel.Limits.MaxConcurrentConnections = options.Limits.MaxConcurrentConnections;
        });

        var longestSync = options.Destinations.Values.Select(d => d.SyncTimeout).DefaultIfEmpty(TimeSpan.Zero).Max();
        var longestAttempt = options.Destinations.Values.Select(d => d.Timeout).DefaultIfEmpty(TimeSpan.Zero).Max();
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(cluster =>
            {
                cluster.ClusterId = options.Cluster.ClusterId;
                cluster.ServiceId = options.Cluster.ServiceId;
            });
            // A grain call carries a whole attempt: give it room beyond the longest one.
            silo.Configure<SiloMessagingOptions>(messaging =>
                messaging.ResponseTimeout = TimeSpan.FromSeconds(30) + (longestSync > longestAttempt ? longestSync : longestAttempt));

            if (string.Equals(options.Storage.Provider, "Sqlite", StringComparison.OrdinalIgnoreCase))
            {
                silo.UseLocalhostClustering(options.Cluster.SiloPort, options.Cluster.GatewayPort,
                    serviceId: options.Cluster.ServiceId, clusterId: options.Cluster.ClusterId);
                silo.Services.AddRelaySqliteStorage(options.Storage.DataPath, options.Storage.SqliteSynchronous);
            }
            else
            {
                // The cluster: membership, reminders and grain state in PostgreSQL through Orleans's ADO.NET providers.
                var advertised = IPAddress.Parse(options.Cluster.AdvertisedIP);
                silo.ConfigureEndpoints(advertised, options.Cluster.SiloPort, options.Cluster.GatewayPort, listenOnAnyHostAddress: !IPAddress.IsLoopback(advertised));
                silo.Configure<ClusterMembershipOptions>(section.GetSection("Cluster:Membership"));
                silo.UseRelayPostgres(options.Storage.ConnectionString!, options.Storage.Migrate, options.Storage.MaxPoolSize);
            }

            silo.UseRelayClusterTls(clusterTls);
            silo.AddRelayGrains();
            silo.AddRelayDashboard(builder.Configuration);
        });
        return builder;
    }

    /// <summary>Maps the HTTP API on every silo.</summary>
    public static WebApplication MapRelay(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseRelaySecurity(sender => sender.UseRelaySoapFrontDoor());
        app.LogRelaySecurity();
        app.LogRelayClusterTls();
        app.MapMessageEndpoints();
        app.MapEbmsEndpoints();
        app.MapOperatorEndpoints();
        app.MapOperationEndpoints();
        app.MapCatalogEndpoints();
        app.MapHealthEndpoints();
        app.MapRelayPortal();
        app.MapRelayTelemetry();
        app.MapRelayApiReference();
        if (app.Configuration.GetSection(SamplesOptions.SectionName).Get<SamplesOptions>()?.Enabled ?? false)
        {
            app.MapSampleEndpoints();
        }

        return app;
    }

    private static void AddConfigFile(WebApplicationBuilder builder)
    {
        var path = builder.Configuration["config"];
        if (string.IsNullOrEmpty(path))
        {
            return;
        }

        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new RelayConfigurationException([$"--config: the file '{full}' does not exist."]);
        }

        // Insert the file before the environment variables and the command line, which still win over it.
        var source = new JsonConfigurationSource { Path = full, Optional = false, ReloadOnChange = false };
        source.ResolveFileProvider();
        // Right after the last JSON file (appsettings.{Environment}.json): above the shipped settings,
        // below the environment variables and the command line, which still win over it.
        var sources = builder.Configuration.Sources;
        var index = sources.Count;
        for (var i = sources.Count - 1; i >= 0; i--)
        {
            if (sources[i] is JsonConfigurationSource)
            {
                index = i + 1;
                break;
            }
        }

        sources.Insert(index, source);
    }

    private static RelayOptions Bind(IConfigurationSection section, IReadOnlyList<DestinationProtocol> protocols)
    {
        // Unknown keys first: a misspelled setting explains a value that seems to be ignored.
        var problems = new List<string>(UnknownSettings.Find(section));
        RelayOptions? options = null;
        try
        {
            options = section.Get<RelayOptions>();
        }
        catch (InvalidOperationException ex)
        {
            // The binder names the key and the value that did not convert.
            problems.Add(ex.Message);
        }

        // Inside a dictionary the binder drops an entry it cannot convert instead of failing: bind each
        // contract and destination on its own, so that a bad value is reported instead of the entry vanishing.
        // Each destination binds to its protocol's class, with that protocol's settings.
        CheckEntries<RetryContractOptions>(section.GetSection(nameof(RelayOptions.Contracts)), problems);
        options ??= new RelayOptions();
        problems.AddRange(DestinationProtocols.Bind(section.GetSection(nameof(RelayOptions.Destinations)), protocols, options.Destinations));
        TopicsBinding.Bind(section.GetSection(nameof(RelayOptions.Topics)), options.Topics);
        if (problems.Count > 0)
        {
            throw new RelayConfigurationException(problems);
        }

        return options;
    }

    private static void CheckEntries<T>(IConfigurationSection parent, List<string> problems)
    {
        foreach (var child in parent.GetChildren())
        {
            try
            {
                child.Get<T>();
            }
            catch (InvalidOperationException ex)
            {
                problems.Add(ex.Message);
            }
        }
    }
}
