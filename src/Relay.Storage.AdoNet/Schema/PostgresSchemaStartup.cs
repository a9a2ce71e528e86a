using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans;
using Orleans.Runtime;

namespace Relay.Storage.AdoNet.Schema;

/// <summary>
/// Applies (with <c>Relay:Storage:Migrate=true</c>) or checks the schema while the silo starts, before any Orleans
/// provider reads its queries: the stage is <see cref="ServiceLifecycleStage.RuntimeInitialize"/> - 1, ahead of the
/// membership table (<see cref="ServiceLifecycleStage.RuntimeGrainServices"/>), the grain storage
/// (<see cref="ServiceLifecycleStage.ApplicationServices"/>) and the reminder table (after those). A silo without
/// the schema so stops with a message that names the scripts, not with Orleans's "relation does not exist".
/// </summary>
internal sealed partial class PostgresSchemaStartup(
    NpgsqlDataSource dataSource,
    bool migrate,
    ILogger<PostgresSchemaStartup> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    public const int Stage = ServiceLifecycleStage.RuntimeInitialize - 1;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(PostgresSchemaStartup), Stage, RunAsync);

    internal async Task RunAsync(CancellationToken cancellationToken)
    {
        if (migrate)
        {
            var applied = await PostgresSchema.ApplyAsync(dataSource, cancellationToken).ConfigureAwait(false);
            if (applied.Count > 0)
            {
                Log.Applied(logger, string.Join(", ", applied));
            }
        }

        try
        {
            await PostgresSchema.CheckAsync(dataSource, cancellationToken).ConfigureAwait(false);
        }
        catch (RelaySchemaException exception)
        {
            Log.SchemaMissing(logger, exception.Message);
            throw;
        }

        Log.SchemaCurrent(logger, PostgresSchema.Scripts[^1].Name);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 40, Level = LogLevel.Information, Message = "Applied the PostgreSQL schema scripts {Scripts}")]
        public static partial void Applied(ILogger logger, string scripts);

        [LoggerMessage(EventId = 41, Level = LogLevel.Information, Message = "The PostgreSQL schema is current (up to {Script})")]
        public static partial void SchemaCurrent(ILogger logger, string script);

        [LoggerMessage(EventId = 42, Level = LogLevel.Critical, Message = "{Problem}")]
        public static partial void SchemaMissing(ILogger logger, string problem);
    }
}
