using Relay.Storage.Tests.Conformance;

namespace Relay.Storage.Tests.Sqlite;

public sealed class SqliteConformanceTests(SqliteStorageFixture fixture) : StorageConformanceTests, IClassFixture<SqliteStorageFixture>
{
    protected override StorageUnderTest CreateStorage() => fixture.Host.Storage;
}
