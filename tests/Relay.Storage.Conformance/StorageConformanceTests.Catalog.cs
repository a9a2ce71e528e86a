using Relay.Core.Catalog;

namespace Relay.Storage.Conformance;

/// <summary>The catalog: versioned entries, a check inside the write's transaction, tombstones, the audit.</summary>
public abstract partial class StorageConformanceTests
{
    private static CatalogWrite Put(CatalogKind kind, string name, string? settings, Func<CatalogSnapshot, CatalogVerdict>? check = null, string by = "ops") => new()
    {
        Changes = [new CatalogChange(kind, name, settings)],
        By = by,
        At = BaseTime,
        Check = check ?? (_ => new CatalogVerdict(null, [new CatalogAuditText(settings is null ? "Deleted" : "Updated", null, settings)])),
    };

    [Fact]
    public async Task Catalog_changes_take_the_next_version_and_read_back_with_their_audit()
    {
        var catalog = Storage.Catalog;
        var name = Unique("billing");
        var before = await catalog.ReadVersionAsync();

        var created = await catalog.WriteAsync(Put(CatalogKind.Destination, name, """{"Address":"http://a"}"""));
        var updated = await catalog.WriteAsync(Put(CatalogKind.Destination, name, """{"Address":"http://b"}"""));

        Assert.True(created.Succeeded);
        Assert.True(updated.Version > created.Version);
        Assert.True(created.Version > before);
        Assert.Equal(updated.Version, await catalog.ReadVersionAsync());
        var snapshot = await catalog.ReadAsync();
        Assert.Equal(updated.Version, snapshot.Version);
        var entry = snapshot.Find(CatalogKind.Destination, name)!;
        Assert.Equal("""{"Address":"http://b"}""", entry.Settings);
        Assert.Equal(updated.Version, entry.Version);
        Assert.Equal("ops", entry.UpdatedBy);
        var audit = await catalog.ReadAuditAsync(CatalogKind.Destination, name, 10);
        Assert.Equal([updated.Version, created.Version], audit.Select(a => a.Version));
        Assert.Equal("""{"Address":"http://b"}""", audit[0].After);
    }

    [Fact]
    public async Task A_refused_catalog_change_stores_nothing_and_the_check_sees_the_stored_catalog()
    {
        var catalog = Storage.Catalog;
        var name = Unique("shipping");
        var first = await catalog.WriteAsync(Put(CatalogKind.Contract, name, """{"MaxAttempts":"3"}"""));
        CatalogEntry? seen = null;

        var refused = await catalog.WriteAsync(Put(CatalogKind.Contract, name, """{"MaxAttempts":"4"}""", snapshot =>
        {
            seen = snapshot.Find(CatalogKind.Contract, name);
            return CatalogVerdict.Refuse(new CatalogRefusal(412, "stale"));
        }));

        Assert.False(refused.Succeeded);
        Assert.Equal(412, refused.Refusal!.StatusCode);
        Assert.Equal(first.Version, seen!.Version);
        Assert.Equal(first.Version, await catalog.ReadVersionAsync());
        Assert.Equal("""{"MaxAttempts":"3"}""", (await catalog.ReadAsync()).Find(CatalogKind.Contract, name)!.Settings);
        Assert.Single(await catalog.ReadAuditAsync(CatalogKind.Contract, name, 10));
    }

    [Fact]
    public async Task A_deleted_catalog_entry_stays_as_a_tombstone()
    {
        var catalog = Storage.Catalog;
        var name = Unique("orders");
        await catalog.WriteAsync(Put(CatalogKind.Topic, name, """["a"]"""));

        var deleted = await catalog.WriteAsync(Put(CatalogKind.Topic, name, null));

        var entry = (await catalog.ReadAsync()).Find(CatalogKind.Topic, name)!;
        Assert.True(entry.Deleted);
        Assert.Equal(deleted.Version, entry.Version);
        Assert.Equal("Deleted", (await catalog.ReadAuditAsync(CatalogKind.Topic, name, 10))[0].Action);
    }
}
