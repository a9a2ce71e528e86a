using Microsoft.Data.Sqlite;

namespace Relay.Storage.Sqlite.Tests;

public sealed class SqliteConformanceTests(SqliteStorageFixture fixture) : StorageConformanceTests, IClassFixture<SqliteStorageFixture>
{
    protected override StorageUnderTest CreateStorage() => fixture.Host.Storage;

    protected override async Task<(long Data, long? Content)> StoredSizesAsync(GrainId grainId, string stateName)
    {
        await using var connection = await fixture.Host.Database.OpenReadConnectionAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT length(s.data), length(c.content)
            FROM grain_state s LEFT JOIN grain_content c ON c.grain_id = s.grain_id AND c.state_name = s.state_name
            WHERE s.grain_id = $grain AND s.state_name = $state
            """;
        command.Parameters.AddWithValue("$grain", grainId.ToString());
        command.Parameters.AddWithValue("$state", stateName);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), $"No state '{stateName}' of {grainId} is stored.");
        return (reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetInt64(1));
    }

    protected override async Task<bool> ContentRowExistsAsync(GrainId grainId, string stateName)
    {
        await using var connection = await fixture.Host.Database.OpenReadConnectionAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM grain_content WHERE grain_id = $grain AND state_name = $state";
        command.Parameters.AddWithValue("$grain", grainId.ToString());
        command.Parameters.AddWithValue("$state", stateName);
        return (long)(await command.ExecuteScalarAsync())! > 0;
    }
}
