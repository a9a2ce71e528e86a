using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;
using Relay.Core.Catalog;
using Relay.Silo.Catalog;

namespace Relay.Silo.Portal;

/// <summary>
/// <c>/portal/catalog</c>: the destinations, contracts and topics in force, each with its settings as configuration holds
/// them (secrets shown as ***), editable as JSON, and a form to add one. The same code path as the API (<see cref="CatalogEditor"/>):
/// the same checks, the same audit, and the version shown is sent back as If-Match, so an edit made meanwhile is not overwritten.
/// </summary>
public sealed class CatalogModel(CatalogEditor editor, ILogger<CatalogModel> logger) : PortalPageModel(logger)
{
    // Shown as typed: the default encoder writes a filter's quotes and comparisons as \u0027 and \u003E, which an operator
    // could neither read nor edit. Not escaping them is safe here: Razor HTML-encodes the text where the page shows it.
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public const string Path = "/portal/catalog";

    public bool ReadOnly => editor.ReadOnly;

    public IReadOnlyList<(CatalogKind Kind, IReadOnlyList<CatalogItem> Items)> Sections { get; private set; } = [];

    public static string Json(JsonNode? settings) => settings?.ToJsonString(Indented) ?? "";

    public IActionResult OnGet()
    {
        Sections = Enum.GetValues<CatalogKind>().Select(kind => (kind, editor.List(kind))).ToList();
        return Page();
    }

    public Task<IActionResult> OnPostSaveAsync(CatalogKind kind, string name, string settings, long? version) =>
        ActAsync(async () =>
        {
            JsonNode? body;
            try
            {
                body = JsonNode.Parse(settings ?? "");
            }
            catch (JsonException ex)
            {
                throw new Core.Messages.RelayErrorException(new Core.Messages.RelayError(400, $"The settings of '{name}' are not JSON: {ex.Message}"));
            }

            var edit = await editor.PutAsync(kind, name?.Trim() ?? "", body,
                new EntryCondition(version, false, version is null), OperatorName, HttpContext.RequestAborted);
            Refused(edit);
            return $"The {kind.Word()} '{name}' was {(edit.Created ? "created" : "saved")}: version {edit.Item!.Version}, in force on every silo within half a second.";
        }, Path);

    public Task<IActionResult> OnPostDeleteAsync(CatalogKind kind, string name, long version) =>
        ActAsync(async () =>
        {
            Refused(await editor.DeleteAsync(kind, name, new EntryCondition(version, false, false), OperatorName, HttpContext.RequestAborted));
            return $"The {kind.Word()} '{name}' was deleted.";
        }, Path);

    private static void Refused(CatalogEdit edit)
    {
        if (edit.Refusal is { } refusal)
        {
            throw new Core.Messages.RelayErrorException(new Core.Messages.RelayError(refusal.StatusCode, refusal.Title, refusal.Problems is { Count: > 1 } ? refusal.Detail : null));
        }
    }
}
