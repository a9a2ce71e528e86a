using Microsoft.Extensions.DependencyInjection;
using Relay.Storage.Sqlite;
using Relay.Storage.Sqlite.Writing;
using Relay.Testing;

namespace Relay.Silo.Tests;

/// <summary>
/// Relay:Storage:SqliteSynchronous is what a commit of the embedded storage waits for: it must reach the one
/// connection every write commits on (the group-commit writer's; the read connections never write).
/// </summary>
public sealed class SqliteSynchronousTests
{
    [Theory]
    [InlineData("Off", 0)]
    [InlineData("Normal", 1)]
    [InlineData("Full", 2)]
    [InlineData("extra", 3)]
    public async Task The_setting_is_the_synchronous_pragma_of_the_connection_every_write_commits_on(string setting, long pragma)
    {
        await using var silo = await TestSilo.StartAsync(new Dictionary<string, string?> { ["Relay:Storage:SqliteSynchronous"] = setting });
        var database = silo.Services.GetRequiredService<SqliteDatabase>();

        // Read inside a batch of the writer, on its connection, as the writes of the silo are.
        Assert.Equal(pragma, await database.Writer.EnqueueAsync(new ReadSynchronous()));
    }

    private sealed class ReadSynchronous() : WriteOperation<long>(CancellationToken.None)
    {
        protected override long Run(WriterSession session) => (long)session.Command("PRAGMA synchronous").ExecuteScalar()!;
    }
}
