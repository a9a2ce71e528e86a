using System.Globalization;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans;
using Orleans.Runtime;
using Orleans.Serialization.Serializers;
using Orleans.Storage;
using Relay.Core.Storage;
using Relay.Storage.AdoNet.Writing;

namespace Relay.Storage.AdoNet;

/// <summary>
/// Relay's grain storage on PostgreSQL (<c>relay_grain_state</c>, sql/postgresql/0007_relay_storage.sql, and beside it
/// <c>relay_grain_content</c>, 0008, a delivery's payload and headers, written only when they change: see
/// <see cref="IStateContentSerializer"/>): reads are one indexed point read; writes go through the silo's <see cref="PostgresWriter"/> (group commit). A state that is an
/// <see cref="IDeliveryProjection"/> also writes its delivery's row and new audit entries, in the same transaction as
/// the state, as the embedded backend does.
/// </summary>
internal sealed partial class PostgresGrainStorage(
    string name,
    NpgsqlDataSource dataSource,
    PostgresWriter writer,
    IGrainStorageSerializer serializer,
    IActivatorProvider activators,
    ILogger<PostgresGrainStorage> logger) : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>
{
    private const string ReadSql = """
        SELECT s.version, s.data, c.content
        FROM relay_grain_state s
        LEFT JOIN relay_grain_content c ON c.grain_id = s.grain_id AND c.state_name = s.state_name
        WHERE s.grain_id = $1 AND s.state_name = $2
        """;

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        long? version = null;
        byte[]? data = null;
        byte[]? content = null;
        var command = dataSource.CreateCommand(ReadSql);
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = grainId.ToString() });
            command.Parameters.Add(new NpgsqlParameter { Value = stateName });
            var reader = await command.ExecuteReaderAsync().ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                if (await reader.ReadAsync().ConfigureAwait(false))
                {
                    version = reader.GetInt64(0);
                    data = reader.GetFieldValue<byte[]>(1);
                    content = reader.IsDBNull(2) ? null : reader.GetFieldValue<byte[]>(2);
                }
            }
        }

        if (version is null)
        {
            grainState.State = activators.GetActivator<T>().Create();
            grainState.ETag = null;
            grainState.RecordExists = false;
            return;
        }

        var state = serializer is IStateContentSerializer split
            ? split.Deserialize<T>(data!, content)
            : serializer.Deserialize<T>(new BinaryData(data!));
        grainState.State = state ?? activators.GetActivator<T>().Create();
        grainState.ETag = PostgresWriter.FormatETag(version.Value);
        grainState.RecordExists = true;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var key = grainId.ToString();
        var expected = ExpectedVersion(key, stateName, grainState.ETag);

        // Serialize and project on the caller's thread: the writer loop only runs SQL.
        var parts = serializer is IStateContentSerializer split
            ? split.SerializeParts(grainState.State)
            : new StateParts(serializer.Serialize(grainState.State).ToArray(), Content: null);
        DeliveryRow? row = null;
        IReadOnlyList<AuditEntry> audit = [];
        if (grainState.State is IDeliveryProjection projection)
        {
            row = projection.ToRow();
            audit = [.. projection.UnsavedAudit];
        }

        try
        {
            var version = await writer.EnqueueAsync(new StateWrite(key, stateName, expected, parts.Data, parts.Content, row, audit, CancellationToken.None))
                .ConfigureAwait(false);
            grainState.ETag = PostgresWriter.FormatETag(version!.Value);
            grainState.RecordExists = true;
        }
        catch (InconsistentStateException exception)
        {
            Log.Conflict(logger, name, stateName, key, exception.CurrentEtag, exception.StoredEtag);
            throw;
        }
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var key = grainId.ToString();
        var expected = ExpectedVersion(key, stateName, grainState.ETag);
        try
        {
            await writer.EnqueueAsync(new StateWrite(key, stateName, expected, data: null, content: null, row: null, audit: [], CancellationToken.None))
                .ConfigureAwait(false);
            grainState.ETag = null;
            grainState.RecordExists = false;
        }
        catch (InconsistentStateException exception)
        {
            Log.Conflict(logger, name, stateName, key, exception.CurrentEtag, exception.StoredEtag);
            throw;
        }
    }

    private static long? ExpectedVersion(string grainId, string stateName, string? eTag)
    {
        if (eTag is null)
        {
            return null;
        }

        return long.TryParse(eTag, NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            ? version
            : throw new InconsistentStateException(
                $"The state '{stateName}' of grain {grainId} carries ETag '{eTag}', which this storage never handed out.",
                storedEtag: null,
                currentEtag: eTag);
    }

    // Taking part in the silo's lifecycle makes the silo build this storage (and its writer) while it starts.
    void ILifecycleParticipant<ISiloLifecycle>.Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(
            $"{nameof(PostgresGrainStorage)}-{name}",
            ServiceLifecycleStage.ApplicationServices,
            _ =>
            {
                Log.Started(logger, name);
                return Task.CompletedTask;
            });

    private static partial class Log
    {
        [LoggerMessage(EventId = 55, Level = LogLevel.Information, Message = "Grain storage '{Name}' uses PostgreSQL with group commit")]
        public static partial void Started(ILogger logger, string name);

        [LoggerMessage(EventId = 56, Level = LogLevel.Debug, Message = "Grain storage '{Name}': write of '{StateName}' of {GrainId} refused, ETag {Expected} expected but {Stored} stored")]
        public static partial void Conflict(ILogger logger, string name, string stateName, string grainId, string? expected, string? stored);
    }
}
