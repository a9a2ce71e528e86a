using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Hosting;
using Relay.Storage.AdoNet.Schema;

namespace Relay.Storage.AdoNet.Tests;

/// <summary>A real Orleans silo on <see cref="RelayPostgresExtensions.UseRelayPostgres"/>: how it starts on an empty database.</summary>
public sealed class SiloStartupTests
{
    private const string Password = "pw-never-logged-7c1";

    [Fact]
    public async Task A_silo_without_migrate_stops_at_start_up_with_the_scripts_to_apply()
    {
        var connectionString = await (await PostgresServer.Shared).CreateDatabaseAsync();
        var logs = new CapturedLogs();
        using var host = BuildSilo(connectionString, migrate: false, logs);

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());

        // The schema check ran before any Orleans provider read its queries: the silo stops with its message,
        // not with the membership table's "relation orleansquery does not exist".
        var refused = Assert.IsType<RelaySchemaException>(Innermost<RelaySchemaException>(failure));
        Assert.Contains("sql/postgresql/0001_orleans_clustering.sql", refused.Message);
        Assert.Contains("Relay:Storage:Migrate=true", refused.Message);
        Assert.Contains(logs.Lines, line => line.StartsWith("Critical", StringComparison.Ordinal) && line.Contains("0004_relay.sql", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Lines, line => line.Contains("orleansquery", StringComparison.OrdinalIgnoreCase) && line.Contains("does not exist", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Lines, line => line.Contains(Password, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_silo_with_migrate_applies_the_schema_and_joins_the_cluster_without_logging_the_connection_string()
    {
        var connectionString = await (await PostgresServer.Shared).CreateDatabaseAsync();
        var logs = new CapturedLogs();
        using var host = BuildSilo(connectionString, migrate: true, logs);

        await host.StartAsync();
        try
        {
            await using var dataSource = NpgsqlDataSource.Create(connectionString);
            await PostgresSchema.CheckAsync(dataSource);
            await using var command = dataSource.CreateCommand("SELECT count(*) FROM OrleansMembershipTable WHERE Status = 3");
            Assert.Equal(1L, await command.ExecuteScalarAsync());
            Assert.Contains(logs.Lines, line => line.Contains("Applied the PostgreSQL schema scripts", StringComparison.Ordinal));
        }
        finally
        {
            await host.StopAsync();
        }

        Assert.DoesNotContain(logs.Lines, line => line.Contains(Password, StringComparison.Ordinal));
    }

    private static IHost BuildSilo(string connectionString, bool migrate, CapturedLogs logs)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Test", DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(logs).SetMinimumLevel(LogLevel.Trace);
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(options =>
            {
                options.ClusterId = "startup-" + Guid.NewGuid().ToString("N")[..8];
                options.ServiceId = "relay-startup-tests";
            });
            silo.ConfigureEndpoints(IPAddress.Loopback, Ports.Free(), Ports.Free());
            // Trust authentication ignores the password; it is there to be looked for in the logs.
            silo.UseRelayPostgres(connectionString + ";Password=" + Password, migrate);
        });
        builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = TimeSpan.FromSeconds(10));
        return builder.Build();
    }

    private static Exception? Innermost<T>(Exception exception)
        where T : Exception
    {
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            if (current is T)
            {
                return current;
            }

            if (current is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions)
                {
                    if (Innermost<T>(inner) is { } found)
                    {
                        return found;
                    }
                }
            }
        }

        return null;
    }
}
