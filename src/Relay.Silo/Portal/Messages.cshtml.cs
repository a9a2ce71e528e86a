using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Relay.Core.Options;
using Relay.Core.Storage;
using Relay.Grains.Operations;
using Relay.Silo.Operating;

namespace Relay.Silo.Portal;

/// <summary><c>/portal/messages</c>: the filtered, paged list; resubmit the selected dead letters, or all the filter matches.</summary>
public sealed class MessagesModel(IRelayStore store, OperatorActions actions, IOptions<RelayOptions> options, ILogger<MessagesModel> logger)
    : PortalPageModel(logger)
{
    [BindProperty(SupportsGet = true)]
    public MessageFilter Filter { get; set; } = new();

    public StoredMessagePage? Results { get; private set; }

    public RelayOptions Relay => options.Value;

    public static string Link(string id) => "/portal/messages/" + Uri.EscapeDataString(id);

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        await LoadAsync(cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostResubmitSelectedAsync(string[]? ids, bool confirmed, CancellationToken cancellationToken)
    {
        ids = (ids ?? []).Where(i => !string.IsNullOrEmpty(i)).Distinct(StringComparer.Ordinal).ToArray();
        if (ids.Length == 0)
        {
            TempData[FlashErrorKey] = "Select the messages to resubmit first.";
            return LocalRedirect(Filter.Url());
        }

        if (!confirmed)
        {
            Confirm = new Confirmation(
                $"Resubmit {ids.Length} message(s)?",
                $"Their dead-lettered deliveries{ToDestination()} are sent again, with attempts counted afresh: {string.Join(", ", ids.Take(10))}{(ids.Length > 10 ? ", ..." : "")}.",
                "?handler=ResubmitSelected",
                [.. Filter.Fields(), .. ids.Select(i => new KeyValuePair<string, string>("ids", i))])
            {
                Button = "Resubmit",
                CancelUrl = Filter.Url(),
            };
            await LoadAsync(cancellationToken);
            return Page();
        }

        return await ActAsync(async () =>
        {
            var count = await actions.ResubmitMessagesAsync(ids, Filter.Destination, OperatorName, cancellationToken);
            return $"Resubmitted {count} dead-lettered deliver{(count == 1 ? "y" : "ies")}.";
        }, Filter.Url());
    }

    public Task<IActionResult> OnPostResubmitAllAsync(bool confirmed, CancellationToken cancellationToken) =>
        StartAllAsync(BulkAction.Resubmit, confirmed, cancellationToken);

    public Task<IActionResult> OnPostDiscardAllAsync(bool confirmed, CancellationToken cancellationToken) =>
        StartAllAsync(BulkAction.Discard, confirmed, cancellationToken);

    /// <summary>Resubmit or discard every dead letter the filter matches: a bulk operation, whose page the operator is taken to.</summary>
    private async Task<IActionResult> StartAllAsync(BulkAction action, bool confirmed, CancellationToken cancellationToken)
    {
        var (query, problem) = Filter.ToQuery();
        if (query is null)
        {
            TempData[FlashErrorKey] = Bounded(problem ?? "The filter is not valid.");
            return LocalRedirect("/portal/messages");
        }

        var resubmit = action == BulkAction.Resubmit;
        if (!confirmed)
        {
            Confirm = new Confirmation(
                resubmit ? "Resubmit every dead letter the filter matches?" : "Discard every dead letter the filter matches?",
                resubmit
                    ? $"Every dead-lettered delivery{ToDestination()} of the messages that match{Describe(Filter)} is sent again, by a bulk operation in the background: its page shows the progress and can cancel it."
                    : $"Every dead-lettered delivery{ToDestination()} of the messages that match{Describe(Filter)} is discarded (no notification is sent), by a bulk operation in the background: its page shows the progress and can cancel it.",
                resubmit ? "?handler=ResubmitAll" : "?handler=DiscardAll",
                Filter.Fields())
            {
                Button = resubmit ? "Resubmit all" : "Discard all",
                Danger = true,
                CancelUrl = Filter.Url(),
            };
            await LoadAsync(cancellationToken);
            return Page();
        }

        string? started = null;
        var result = await ActAsync(async () =>
        {
            var operation = await actions.StartBulkAsync(action, OperatorActions.DeadLettersOf(query), OperatorName);
            started = operation.Id;
            return $"{(resubmit ? "Resubmit" : "Discard")} of {operation.Total:N0} dead-lettered deliver{(operation.Total == 1 ? "y" : "ies")} started.";
        }, Filter.Url());
        return started is null ? result : LocalRedirect(OperationsModel.Link(started));
    }

    private string ToDestination() => string.IsNullOrEmpty(Filter.Destination) ? "" : $" to '{Filter.Destination}'";

    private static string Describe(MessageFilter filter)
    {
        var parts = filter.Fields().Where(f => f.Key != "status").Select(f => $"{f.Key} {f.Value}").ToList();
        return parts.Count == 0 ? " (no filter: all of them)" : " " + string.Join(", ", parts);
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        var (query, problem) = Filter.ToQuery();
        if (query is null)
        {
            Error = problem;
            return;
        }

        try
        {
            Results = await store.ListMessagesAsync(query, cancellationToken);
        }
        catch (ArgumentException)
        {
            Error = "That page link is not one this list gave; start again from the newest.";
            Filter.Cursor = null;
            Results = await store.ListMessagesAsync(query with { Cursor = null }, cancellationToken);
        }
    }
}
