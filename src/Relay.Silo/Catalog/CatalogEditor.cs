using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Relay.Core.Catalog;
using Relay.Core.Options;

namespace Relay.Silo.Catalog;

/// <summary>
/// Reading and changing the catalog's entries: the one code path behind the JSON API (<c>/destinations/{name}</c>,
/// <c>/contracts/{name}</c>, <c>/topics/{name}</c>) and the portal. A change is checked as start-up checks
/// configuration (the same binding, unknown-key check and validators, on the whole catalog with the change), inside the
/// write's transaction, and refused whole with the problems it would bring: nothing stored.
/// </summary>
public sealed partial class CatalogEditor(RelayCatalog catalog, IOptions<RelayOptions> options, IConfiguration configuration, TimeProvider time)
{
    [GeneratedRegex("^[A-Za-z0-9._-]{1,100}$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    public bool ReadOnly => catalog.Source == CatalogSource.Configuration;

    /// <summary>Every entry of a kind in force on this silo, by name.</summary>
    public IReadOnlyList<CatalogItem> List(CatalogKind kind)
    {
        if (ReadOnly || catalog.Current is not { } state)
        {
            return configuration.GetSection($"{RelayOptions.SectionName}:{kind.Section()}").GetChildren()
                .Select(child => FromConfiguration(kind, child)).OfType<CatalogItem>()
                .OrderBy(i => i.Name, StringComparer.Ordinal).ToList();
        }

        return state.Snapshot.Live.Where(e => e.Kind == kind).Select(Item).OrderBy(i => i.Name, StringComparer.Ordinal).ToList();
    }

    public CatalogItem? Get(CatalogKind kind, string name)
    {
        if (ReadOnly || catalog.Current is not { } state)
        {
            return FromConfiguration(kind, configuration.GetSection($"{RelayOptions.SectionName}:{kind.Section()}:{name}"));
        }

        return state.Snapshot.Find(kind, name) is { Deleted: false } entry ? Item(entry) : null;
    }

    /// <summary>Creates or replaces an entry with <paramref name="body"/>, the JSON of its configuration entry.</summary>
    public async Task<CatalogEdit> PutAsync(CatalogKind kind, string name, JsonNode? body, EntryCondition condition, string by, CancellationToken cancellationToken)
    {
        if (Refusal(kind, name) is { } refused)
        {
            return new CatalogEdit(refused, null, false);
        }

        var shapeOk = kind == CatalogKind.Topic ? body is JsonArray or JsonObject : body is JsonObject;
        if (!shapeOk)
        {
            return new CatalogEdit(new CatalogRefusal(400,
                kind == CatalogKind.Topic
                    ? "The body must be the topic's entry as configuration holds it: a list of destination names, e.g. [\"billing\", \"shipping\"], "
                      + "or its subscriptions with filters, e.g. {\"Subscriptions\": [{\"Destination\": \"billing\", \"Filter\": \"region = 'eu'\"}]}."
                    : $"The body must be the {kind.Word()}'s entry as configuration holds it: a JSON object of its settings, e.g. "
                      + (kind == CatalogKind.Destination ? "{\"Protocol\": \"Http\", \"Address\": \"http://host/path\"}." : "{\"MaxAttempts\": 5, \"Delay\": \"00:00:05\"}.")),
                null, false);
        }

        var created = false;
        var result = await catalog.Store.WriteAsync(new CatalogWrite
        {
            Changes = [],
            By = by,
            At = time.GetUtcNow(),
            Check = snapshot =>
            {
                var current = snapshot.Find(kind, name) is { Deleted: false } live ? live : null;
                if (Precondition(kind, name, current, condition) is { } failed)
                {
                    return CatalogVerdict.Refuse(failed);
                }

                var settings = (JsonNode)body!.DeepClone();
                if (settings is JsonObject entry)
                {
                    CatalogJson.KeepRedactedSecrets(entry, current?.Settings is { } stored ? JsonNode.Parse(stored) : null, catalog.Protocols);
                }

                var change = new CatalogChange(kind, name, CatalogJson.Text(settings));
                if (Check(snapshot, change, deleting: false) is { } problem)
                {
                    return CatalogVerdict.Refuse(problem);
                }

                created = current is null;
                return new CatalogVerdict(null, [new CatalogAuditText(created ? "Created" : "Updated", Redacted(kind, current?.Settings), Redacted(kind, change.Settings))], [change]);
            },
        }, cancellationToken);
        return await FinishAsync(kind, name, result, created, cancellationToken);
    }

    public async Task<CatalogEdit> DeleteAsync(CatalogKind kind, string name, EntryCondition condition, string by, CancellationToken cancellationToken)
    {
        if (Refusal(kind, name) is { } refused)
        {
            return new CatalogEdit(refused, null, false);
        }

        var result = await catalog.Store.WriteAsync(new CatalogWrite
        {
            Changes = [new CatalogChange(kind, name, null)],
            By = by,
            At = time.GetUtcNow(),
            Check = snapshot =>
            {
                if (snapshot.Find(kind, name) is not { Deleted: false } current)
                {
                    return CatalogVerdict.Refuse(new CatalogRefusal(404, $"Unknown {kind.Word()} '{name}'."));
                }

                if (Precondition(kind, name, current, condition) is { } failed)
                {
                    return CatalogVerdict.Refuse(failed);
                }

                if (Check(snapshot, new CatalogChange(kind, name, null), deleting: true) is { } problem)
                {
                    return CatalogVerdict.Refuse(problem);
                }

                return new CatalogVerdict(null, [new CatalogAuditText("Deleted", Redacted(kind, current.Settings), null)]);
            },
        }, cancellationToken);
        return await FinishAsync(kind, name, result, created: false, cancellationToken);
    }

    private async Task<CatalogEdit> FinishAsync(CatalogKind kind, string name, CatalogWriteResult result, bool created, CancellationToken cancellationToken)
    {
        if (result.Refusal is { } refusal)
        {
            return new CatalogEdit(refusal, null, false);
        }

        // In force on this silo before the answer; the others find the new version at their next poll.
        await catalog.RefreshAsync(force: false, cancellationToken);
        var stored = result.Stored.Single();
        return new CatalogEdit(null, stored.Deleted ? null : Item(stored), created);
    }

    private CatalogRefusal? Refusal(CatalogKind kind, string name)
    {
        if (ReadOnly)
        {
            return new CatalogRefusal(409, $"The {kind.Word()} '{name}' cannot be changed at runtime: the catalog is read-only.",
                $"{RelayOptions.SectionName}:Catalog:Source is Configuration: destinations, contracts and topics come from configuration only. "
                + "Change the configuration and restart, or set Relay:Catalog:Source=Catalog.");
        }

        return NamePattern().IsMatch(name)
            ? null
            : new CatalogRefusal(400, $"The {kind.Word()} name '{Core.Options.OptionRules.Shorten(name)}' must be 1 to 100 letters, digits, '.', '_' or '-'.");
    }

    private static CatalogRefusal? Precondition(CatalogKind kind, string name, CatalogEntry? current, EntryCondition condition)
    {
        if (condition.IfNoneMatchAny && current is not null)
        {
            return new CatalogRefusal(412, $"The {kind.Word()} '{name}' exists already (If-None-Match: *).",
                $"Its ETag is {ETag(current.Version)}: send If-Match with it to replace it.");
        }

        if (condition.IfMatchAny && current is null)
        {
            return new CatalogRefusal(412, $"The {kind.Word()} '{name}' does not exist (If-Match: *).");
        }

        if (condition.IfMatch is { } expected && current?.Version != expected)
        {
            return new CatalogRefusal(412, $"The {kind.Word()} '{name}' has changed since {ETag(expected)}: it is "
                + (current is null ? "deleted." : $"now {ETag(current.Version)}."),
                "Read it again (GET), apply your change to what it is now, and send that with the new ETag in If-Match.");
        }

        return null;
    }

    /// <summary>
    /// The problems <paramref name="change"/> brings to the catalog, by start-up's rules; null when none. Problems the
    /// catalog had before the change are not this change's (an older build's entry): they do not refuse it.
    /// </summary>
    private CatalogRefusal? Check(CatalogSnapshot snapshot, CatalogChange change, bool deleting)
    {
        var before = snapshot.Live.Select(e => (e.Kind, e.Name, Settings: e.Settings!)).ToList();
        var after = before.Where(e => !(e.Kind == change.Kind && e.Name == change.Name)).ToList();
        if (change.Settings is { } settings)
        {
            after.Add((change.Kind, change.Name, settings));
        }

        var boundBefore = CatalogBinding.Bind(before, catalog.Protocols);
        var boundAfter = CatalogBinding.Bind(after, catalog.Protocols);
        var problems = boundAfter.Problems.Except(boundBefore.Problems).ToList();
        if (problems.Count == 0)
        {
            var protocols = catalog.Protocols.Cast<IDestinationProtocol>().ToList();
            var current = options.Value;
            var was = RelayOptionsValidator.Validate(boundBefore.Over(current), protocols);
            problems = RelayOptionsValidator.Validate(boundAfter.Over(current), protocols).Except(was).ToList();
        }

        if (problems.Count == 0)
        {
            return null;
        }

        var what = $"The {change.Kind.Word()} '{change.Name}' was not {(deleting ? "deleted" : "saved")}";
        return new CatalogRefusal(deleting ? 409 : 400, $"{what}: {problems[0]}",
            problems.Count == 1 ? "Nothing was stored." : $"Nothing was stored. All {problems.Count} problems: {string.Join(" ", problems)}", problems);
    }

    private string? Redacted(CatalogKind kind, string? settings) =>
        settings is null ? null : CatalogJson.Redact(kind, JsonNode.Parse(settings), catalog.Protocols) is { } node ? CatalogJson.Text(node) : null;

    private CatalogItem Item(CatalogEntry entry) => new(entry.Kind, entry.Name, CatalogSource.Catalog, entry.Version, entry.UpdatedAt, entry.UpdatedBy,
        CatalogJson.Redact(entry.Kind, JsonNode.Parse(entry.Settings!), catalog.Protocols));

    private CatalogItem? FromConfiguration(CatalogKind kind, IConfigurationSection section) =>
        CatalogJson.FromSection(section) is { } node
            ? new CatalogItem(kind, section.Key, CatalogSource.Configuration, 0, null, "configuration", CatalogJson.Redact(kind, node, catalog.Protocols))
            : null;

    public static string ETag(long version) => $"\"{version.ToString(System.Globalization.CultureInfo.InvariantCulture)}\"";
}

/// <summary>One entry as shown: its settings (secrets redacted), where it comes from, its version (the ETag).</summary>
public sealed record CatalogItem(CatalogKind Kind, string Name, CatalogSource Source, long Version, DateTimeOffset? UpdatedAt, string? UpdatedBy, JsonNode? Settings);

/// <summary>What a PUT or DELETE did: refused, or the entry now (null when deleted); <see cref="Created"/> for a new one.</summary>
public sealed record CatalogEdit(CatalogRefusal? Refusal, CatalogItem? Item, bool Created);

/// <summary>The request's preconditions: <c>If-Match: "n"</c>, <c>If-Match: *</c>, <c>If-None-Match: *</c>.</summary>
public readonly record struct EntryCondition(long? IfMatch, bool IfMatchAny, bool IfNoneMatchAny);
