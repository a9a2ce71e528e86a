namespace Relay.Storage.AdoNet.Tests;

/// <summary>The storage conformance suite on PostgreSQL: Relay's grain storage (group commit), the reminder table, Relay's store.</summary>
public sealed class PostgresConformanceTests(PostgresStorageFixture fixture) : StorageConformanceTests, IClassFixture<PostgresStorageFixture>
{
    protected override StorageUnderTest CreateStorage() => fixture.Host.Storage;

    protected override async Task<(long Data, long? Content)> StoredSizesAsync(GrainId grainId, string stateName)
    {
        await using var command = fixture.Host.DataSource.CreateCommand("""
            SELECT length(s.data)::bigint, length(c.content)::bigint
            FROM relay_grain_state s LEFT JOIN relay_grain_content c ON c.grain_id = s.grain_id AND c.state_name = s.state_name
            WHERE s.grain_id = $1 AND s.state_name = $2
            """);
        command.Parameters.AddWithValue(grainId.ToString());
        command.Parameters.AddWithValue(stateName);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), $"No state '{stateName}' of {grainId} is stored.");
        return (reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetInt64(1));
    }

    protected override async Task<bool> ContentRowExistsAsync(GrainId grainId, string stateName)
    {
        await using var command = fixture.Host.DataSource.CreateCommand(
            "SELECT COUNT(*) FROM relay_grain_content WHERE grain_id = $1 AND state_name = $2");
        command.Parameters.AddWithValue(grainId.ToString());
        command.Parameters.AddWithValue(stateName);
        return (long)(await command.ExecuteScalarAsync())! > 0;
    }
}
