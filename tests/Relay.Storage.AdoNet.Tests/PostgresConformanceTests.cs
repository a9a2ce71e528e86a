using Relay.Storage.Tests.Conformance;

namespace Relay.Storage.AdoNet.Tests;

/// <summary>The storage conformance suite on PostgreSQL: Orleans's ADO.NET grain storage and reminder table, Relay's store.</summary>
public sealed class PostgresConformanceTests(PostgresStorageFixture fixture) : StorageConformanceTests, IClassFixture<PostgresStorageFixture>
{
    protected override StorageUnderTest CreateStorage() => fixture.Host.Storage;
}
