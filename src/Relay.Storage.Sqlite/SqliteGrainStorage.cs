using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Runtime;
using Orleans.Serialization.Serializers;
using Orleans.Storage;
using Relay.Core.Storage;
using Relay.Storage.Sqlite.Writing;
using static Relay.Storage.Sqlite.SqliteValues;

namespace Relay.Storage.Sqlite;

/// <summary>
/// Orleans grain storage in the SQLite file. A state that is an <see cref="IDeliveryProjection"/> also
/// writes its delivery's index row and audit, in the same transaction as the state; a delivery's content (payload,
/// headers) is kept in <c>grain_content</c>, written only when it changed (<see cref="IStateContentSerializer"/>).
/// </summary>
internal sealed partial class SqliteGrainStorage(
    string name,
    SqliteDatabase database,
    IGrainStorageSerializer serializer,
    IActivatorProvider activators,
    ILogger<SqliteGrainStorage> logger) : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>
{
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        ReadStateAsync(stateName, grainId, grainState, CancellationToken.None);

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        // SQLite reads are synchronous (Microsoft.Data.Sqlite's async methods are too); an indexed point read.
        cancellationToken.ThrowIfCancellationRequested();
        long? version = null;
        byte[]? data = null;
        byte[]? content = null;
        // Activations read their state here (one per new delivery): a session with the statement already prepared.
        var session = database.ReadSessions.Rent();
        try
        {
            var command = session.Command("""
                SELECT s.version, s.data, c.content
                FROM grain_state s
                LEFT JOIN grain_content c ON c.grain_id = s.grain_id AND c.state_name = s.state_name
                WHERE s.grain_id = $grain AND s.state_name = $state
                """);
            command.Parameters.AddWithValue("$grain", grainId.ToString());
            command.Parameters.AddWithValue("$state", stateName);
            using (var reader = command.ExecuteReader())
            {
                if (reader.Read())
                {
                    version = reader.GetInt64(0);
                    data = (byte[])reader.GetValue(1);
                    content = reader.IsDBNull(2) ? null : (byte[])reader.GetValue(2);
                }
            }
        }
        catch
        {
            session.Dispose();
            throw;
        }

        database.ReadSessions.Return(session);

        if (version is null)
        {
            grainState.State = activators.GetActivator<T>().Create();
            grainState.ETag = null;
            grainState.RecordExists = false;
            return Task.CompletedTask;
        }

        var state = serializer is IStateContentSerializer split
            ? split.Deserialize<T>(data!, content)
            : serializer.Deserialize<T>(new BinaryData(data!));
        grainState.State = state ?? activators.GetActivator<T>().Create();
        grainState.ETag = FormatETag(version.Value);
        grainState.RecordExists = true;
        return Task.CompletedTask;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        WriteStateAsync(stateName, grainId, grainState, CancellationToken.None);

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
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
            var version = await database.Writer
                .EnqueueAsync(new WriteGrainState(key, stateName, expected, parts.Data, parts.Content, row, audit, cancellationToken))
                .ConfigureAwait(false);
            grainState.ETag = FormatETag(version);
            grainState.RecordExists = true;
        }
        catch (InconsistentStateException exception)
        {
            Log.Conflict(logger, name, stateName, key, exception.CurrentEtag, exception.StoredEtag);
            throw;
        }
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        ClearStateAsync(stateName, grainId, grainState, CancellationToken.None);

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        var key = grainId.ToString();
        var expected = ExpectedVersion(key, stateName, grainState.ETag);
        try
        {
            await database.Writer
                .EnqueueAsync(new ClearGrainState(key, stateName, expected, cancellationToken))
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

        return TryParseETag(eTag, out var version)
            ? version
            : throw new InconsistentStateException(
                $"The state '{stateName}' of grain {grainId} carries ETag '{eTag}', which this storage never handed out.",
                storedEtag: null,
                currentEtag: eTag);
    }

    // Taking part in the silo's lifecycle makes the silo build this storage, and so open the database and
    // create its schema, while it starts, rather than at the first grain activation.
    void ILifecycleParticipant<ISiloLifecycle>.Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(
            $"{nameof(SqliteGrainStorage)}-{name}",
            ServiceLifecycleStage.RuntimeInitialize,
            _ =>
            {
                Log.Started(logger, name, database.DatabasePath);
                return Task.CompletedTask;
            });

    private static partial class Log
    {
        [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "Grain storage '{Name}' uses SQLite at {Path}")]
        public static partial void Started(ILogger logger, string name, string path);

        [LoggerMessage(EventId = 21, Level = LogLevel.Debug, Message = "Grain storage '{Name}': write of '{StateName}' of {GrainId} refused, ETag {Expected} expected but {Stored} stored")]
        public static partial void Conflict(ILogger logger, string name, string stateName, string grainId, string? expected, string? stored);
    }
}
