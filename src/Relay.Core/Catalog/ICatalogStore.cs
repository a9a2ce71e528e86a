namespace Relay.Core.Catalog;

/// <summary>
/// The catalog in the database: destinations, contracts and topics managed at runtime, each a JSON object of the same
/// shape as its entry in configuration, each versioned. Every change takes the next catalog version (one counter for
/// the whole catalog, so a silo knows it is current by comparing one number) and writes its audit record in the same
/// transaction. A deleted entry stays as a tombstone (no settings), so that a name once known is not seeded again from
/// configuration.
/// </summary>
public interface ICatalogStore
{
    /// <summary>The catalog's version: the version of its latest change; 0 when nothing was ever stored.</summary>
    Task<long> ReadVersionAsync(CancellationToken cancellationToken = default);

    /// <summary>Every entry, tombstones included, and the catalog's version they make up.</summary>
    Task<CatalogSnapshot> ReadAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores one change when <see cref="CatalogWrite.Check"/> allows it, against the catalog as it is inside the
    /// write's transaction (no other change of the catalog can come between): the change's preconditions
    /// (<c>If-Match</c>) and the validation of the whole catalog with the change.
    /// </summary>
    Task<CatalogWriteResult> WriteAsync(CatalogWrite write, CancellationToken cancellationToken = default);

    /// <summary>The audit of the catalog, newest first; of one entry when <paramref name="name"/> is given.</summary>
    Task<IReadOnlyList<CatalogAuditEntry>> ReadAuditAsync(CatalogKind? kind, string? name, int limit, CancellationToken cancellationToken = default);
}

/// <summary>One entry as stored.</summary>
/// <param name="Settings">The entry's JSON (the shape of its configuration entry); null for a deleted one (a tombstone).</param>
public sealed record CatalogEntry(CatalogKind Kind, string Name, long Version, string? Settings, DateTimeOffset UpdatedAt, string UpdatedBy)
{
    public bool Deleted => Settings is null;
}

/// <summary>The whole catalog at one version.</summary>
public sealed record CatalogSnapshot(long Version, IReadOnlyList<CatalogEntry> Entries)
{
    public static readonly CatalogSnapshot Empty = new(0, []);

    public CatalogEntry? Find(CatalogKind kind, string name) =>
        Entries.FirstOrDefault(e => e.Kind == kind && string.Equals(e.Name, name, StringComparison.Ordinal));

    public IEnumerable<CatalogEntry> Live => Entries.Where(e => !e.Deleted);
}

/// <summary>A change: one entry set (<see cref="Settings"/>) or deleted (null); several for the seeding at first start.</summary>
public sealed record CatalogWrite
{
    public required IReadOnlyList<CatalogChange> Changes { get; init; }
    public required string By { get; init; }
    public required DateTimeOffset At { get; init; }

    /// <summary>
    /// Asked inside the write's transaction with the catalog as stored: the change goes ahead when it answers no
    /// refusal, with the audit's before and after as it says (secrets redacted).
    /// </summary>
    public required Func<CatalogSnapshot, CatalogVerdict> Check { get; init; }
}

/// <param name="Settings">The new JSON; null to delete.</param>
public sealed record CatalogChange(CatalogKind Kind, string Name, string? Settings);

/// <summary>What <see cref="CatalogWrite.Check"/> answered: a refusal, or the audit of each change (in the same order).</summary>
/// <param name="Changes">The changes to store, when the check settled them itself (a secret kept from the stored entry); else the write's.</param>
public sealed record CatalogVerdict(CatalogRefusal? Refusal, IReadOnlyList<CatalogAuditText> Audit, IReadOnlyList<CatalogChange>? Changes = null)
{
    public static CatalogVerdict Refuse(CatalogRefusal refusal) => new(refusal, []);
}

/// <summary>Why a change was not stored: a status (400, 404, 409, 412) and a message a person can act on.</summary>
public sealed record CatalogRefusal(int StatusCode, string Title, string? Detail = null, IReadOnlyList<string>? Problems = null);

/// <summary>The audit of one change, as written: the action and the entry before and after, secrets redacted.</summary>
public sealed record CatalogAuditText(string Action, string? Before, string? After);

/// <summary>What a write did: stored (with the version of each entry and of the catalog), or refused.</summary>
public sealed record CatalogWriteResult(CatalogRefusal? Refusal, long Version, IReadOnlyList<CatalogEntry> Stored)
{
    public bool Succeeded => Refusal is null;
}

/// <summary>One audited change of the catalog.</summary>
public sealed record CatalogAuditEntry(long Version, CatalogKind Kind, string Name, string Action, DateTimeOffset At, string By,
    string? Before, string? After);
