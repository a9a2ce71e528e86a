using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Net.Http.Headers;
using Relay.Core.Catalog;
using Relay.Core.Options;
using Relay.Silo.Catalog;

namespace Relay.Silo.Api;

/// <summary>
/// The catalog over HTTP: <c>GET/PUT/DELETE /destinations/{name}</c>, <c>/contracts/{name}</c>, <c>/topics/{name}</c>
/// (and <c>GET /contracts</c>, <c>GET /topics</c>; <c>GET /destinations</c> stays the overview of holds and counts), and
/// <c>GET /catalog/audit</c>. A PUT's body is the entry as configuration holds it; answers carry the entry's
/// <c>ETag</c>, and a stale <c>If-Match</c> gets 412 (docs/API.md, "The catalog").
/// </summary>
internal static class CatalogEndpoints
{
    public const string CatalogTag = "Catalog";

    public static IEndpointRouteBuilder MapCatalogEndpoints(this IEndpointRouteBuilder app)
    {
        // No policy named: the fallback policy makes every one of these an operator's.
        var group = app.MapGroup("").WithTags(CatalogTag);
        foreach (var kind in Enum.GetValues<CatalogKind>())
        {
            var path = "/" + kind.Section().ToLowerInvariant();
            var word = kind.Word();
            if (kind != CatalogKind.Destination)
            {
                // GET /destinations is the overview of holds and counts (OperatorEndpoints), as before the catalog.
                group.MapGet(path, (CatalogEditor editor) => Results.Json(new CatalogList(editor.List(kind).Select(View).ToList())))
                    .WithName($"List{kind}s")
                    .WithSummary($"Every {word} in force, with its settings and where it comes from")
                    .Produces<CatalogList>();
            }

            group.MapGet(path + "/{name}", (string name, HttpContext http, CatalogEditor editor) => Get(kind, name, http, editor))
                .WithName($"Get{kind}")
                .WithSummary($"One {word}: its settings as configuration holds them (secrets redacted), its source and version")
                .WithDescription("The answer's ETag is the entry's version: send it back in If-Match with a PUT or DELETE.")
                .Produces<CatalogEntryView>()
                .ProducesProblem(StatusCodes.Status404NotFound);
            group.MapPut(path + "/{name}", (string name, HttpContext http, CatalogEditor editor) => PutAsync(kind, name, http, editor))
                .WithName($"Put{kind}")
                .WithSummary($"Create or replace a {word}")
                .WithDescription($"The body is the {word}'s entry as configuration holds it (Relay:{kind.Section()}:{{name}}), checked as at start-up; "
                    + "a problem is refused whole with 400 naming the setting, nothing stored. If-Match: the ETag last read (412 when it changed since); "
                    + "If-None-Match: * to create only. A secret sent as \"***\" (as a GET shows it) keeps its stored value. "
                    + "In force on every silo within Relay:Catalog:PollInterval (500 ms).")
                .AcceptsJsonBody<JsonObject>(required: true)
                .Produces<CatalogEntryView>()
                .Produces<CatalogEntryView>(StatusCodes.Status201Created)
                .ProducesProblem(StatusCodes.Status400BadRequest)
                .ProducesProblem(StatusCodes.Status409Conflict)
                .ProducesProblem(StatusCodes.Status412PreconditionFailed)
                .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
                .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
            group.MapDelete(path + "/{name}", (string name, HttpContext http, CatalogEditor editor) => DeleteAsync(kind, name, http, editor))
                .WithName($"Delete{kind}")
                .WithSummary($"Delete a {word}")
                .WithDescription(kind == CatalogKind.Destination
                    ? "Refused (409) while a topic or another destination names it. Its deliveries are kept: each is parked (DeadLettered) at its "
                      + "next attempt, resubmittable once the destination is created again."
                    : $"Refused (409) while another entry names it. If-Match as for PUT.")
                .Produces(StatusCodes.Status204NoContent)
                .ProducesProblem(StatusCodes.Status404NotFound)
                .ProducesProblem(StatusCodes.Status409Conflict)
                .ProducesProblem(StatusCodes.Status412PreconditionFailed)
                .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        }

        group.MapGet("/catalog/audit", AuditAsync)
            .WithName("CatalogAudit")
            .WithSummary("The catalog's changes, newest first: who, when, before and after (secrets redacted)")
            .WithQueryParameter("kind", "Destination, Contract or Topic.")
            .WithQueryParameter("name", "One entry's changes.")
            .WithQueryParameter("limit", "At most this many (1 to 1000, default 100).")
            .Produces<CatalogAuditList>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    private static IResult Get(CatalogKind kind, string name, HttpContext http, CatalogEditor editor)
    {
        if (editor.Get(kind, name) is not { } item)
        {
            return Problems.Of(404, $"Unknown {kind.Word()} '{name}'.");
        }

        http.Response.Headers.ETag = CatalogEditor.ETag(item.Version);
        return Results.Json(View(item));
    }

    private static async Task<IResult> PutAsync(CatalogKind kind, string name, HttpContext http, CatalogEditor editor)
    {
        if (Condition(http) is not { } condition)
        {
            return BadETag();
        }

        var (body, problem) = await MessageEndpoints.ReadJsonAsync<JsonNode>(http);
        if (problem is not null)
        {
            return problem;
        }

        var logger = http.RequestServices.GetRequiredService<ILogger<CatalogEditor>>();
        return await Problems.Guard(logger, null, async () =>
        {
            var edit = await editor.PutAsync(kind, name, body, condition, OperatorEndpoints.Operator(http), http.RequestAborted);
            if (edit.Refusal is { } refusal)
            {
                return Refused(refusal);
            }

            http.Response.Headers.ETag = CatalogEditor.ETag(edit.Item!.Version);
            return edit.Created
                ? Results.Created($"/{kind.Section().ToLowerInvariant()}/{Uri.EscapeDataString(name)}", View(edit.Item))
                : Results.Json(View(edit.Item));
        });
    }

    private static async Task<IResult> DeleteAsync(CatalogKind kind, string name, HttpContext http, CatalogEditor editor)
    {
        if (Condition(http) is not { } condition)
        {
            return BadETag();
        }

        var logger = http.RequestServices.GetRequiredService<ILogger<CatalogEditor>>();
        return await Problems.Guard(logger, null, async () =>
        {
            var edit = await editor.DeleteAsync(kind, name, condition, OperatorEndpoints.Operator(http), http.RequestAborted);
            return edit.Refusal is { } refusal ? Refused(refusal) : Results.NoContent();
        });
    }

    private static async Task<IResult> AuditAsync(HttpContext http, ICatalogStore store, ILogger<CatalogEditor> logger)
    {
        var query = http.Request.Query;
        CatalogKind? kind = null;
        if (query.TryGetValue("kind", out var kindText) && !string.IsNullOrEmpty(kindText))
        {
            if (!Enum.TryParse<CatalogKind>(kindText, ignoreCase: true, out var parsed) || int.TryParse(kindText, out _))
            {
                return Problems.Of(400, $"Unknown kind '{kindText}'.", "One of: Destination, Contract, Topic.");
            }

            kind = parsed;
        }

        var limit = 100;
        if (query.TryGetValue("limit", out var limitText) && !string.IsNullOrEmpty(limitText)
            && (!int.TryParse(limitText, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > 1000))
        {
            return Problems.Of(400, "'limit' must be a whole number from 1 to 1000.");
        }

        var name = query.TryGetValue("name", out var n) && !string.IsNullOrEmpty(n) ? n.ToString() : null;
        return await Problems.Guard(logger, null, async () =>
        {
            var entries = await store.ReadAuditAsync(kind, name, limit, http.RequestAborted);
            return Results.Json(new CatalogAuditList(entries.Select(e => new CatalogAuditView(e.Version, e.Kind.ToString(), e.Name, e.Action, e.At, e.By,
                e.Before is null ? null : JsonNode.Parse(e.Before), e.After is null ? null : JsonNode.Parse(e.After))).ToList()));
        });
    }

    /// <summary>If-Match / If-None-Match as this API takes them; null when an ETag is not one of ours.</summary>
    private static EntryCondition? Condition(HttpContext http)
    {
        var ifMatch = http.Request.Headers[HeaderNames.IfMatch].ToString().Trim();
        var ifNoneMatch = http.Request.Headers[HeaderNames.IfNoneMatch].ToString().Trim();
        if (ifNoneMatch.Length > 0 && ifNoneMatch != "*")
        {
            return null;
        }

        if (ifMatch.Length == 0 || ifMatch == "*")
        {
            return new EntryCondition(null, ifMatch == "*", ifNoneMatch == "*");
        }

        var text = ifMatch.StartsWith("W/", StringComparison.Ordinal) ? ifMatch[2..] : ifMatch;
        return text.Length > 2 && text[0] == '"' && text[^1] == '"'
               && long.TryParse(text[1..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            ? new EntryCondition(version, false, ifNoneMatch == "*")
            : null;
    }

    private static IResult BadETag() => Problems.Of(400, "If-Match must be an ETag this API gave (\"12\") or *; If-None-Match only *.");

    private static IResult Refused(CatalogRefusal refusal) => Results.Problem(statusCode: refusal.StatusCode, title: refusal.Title, detail: refusal.Detail,
        extensions: refusal.Problems is { Count: > 0 } problems ? new Dictionary<string, object?> { ["errors"] = problems } : null);

    private static CatalogEntryView View(CatalogItem item) => new(item.Name, item.Source.ToString(), item.Version, item.UpdatedAt, item.UpdatedBy, item.Settings);
}

/// <summary>One catalog entry: its settings as configuration holds them, secrets redacted.</summary>
internal sealed record CatalogEntryView(string Name, string Source, long Version, DateTimeOffset? UpdatedAt, string? UpdatedBy, JsonNode? Settings);

internal sealed record CatalogList(IReadOnlyList<CatalogEntryView> Items);

internal sealed record CatalogAuditView(long Version, string Kind, string Name, string Action, DateTimeOffset At, string By, JsonNode? Before, JsonNode? After);

internal sealed record CatalogAuditList(IReadOnlyList<CatalogAuditView> Items);
