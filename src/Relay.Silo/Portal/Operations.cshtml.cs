using Microsoft.AspNetCore.Mvc;
using Relay.Grains.Operations;
using Relay.Silo.Operating;

namespace Relay.Silo.Portal;

/// <summary><c>/portal/operations</c>: the recent bulk operations (resubmit or discard all matching), each with its progress.</summary>
public sealed class OperationsModel(OperatorActions actions, ILogger<OperationsModel> logger) : PortalPageModel(logger)
{
    public const int Shown = 50;

    public IReadOnlyList<BulkOperationView> Items { get; private set; } = [];

    public static string Link(string id) => "/portal/operations/" + id;

    public async Task<IActionResult> OnGetAsync()
    {
        Items = await actions.RecentOperationsAsync(Shown);
        return Page();
    }

    /// <summary>"1,234 of 1,500 · 2 skipped · 0 failed": the progress line of an operation.</summary>
    public static string Progress(BulkOperationView operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        var verb = operation.Action == BulkAction.Discard ? "discarded" : "resubmitted";
        return $"{operation.Done:N0} of {operation.Total:N0} {verb} · {operation.Skipped:N0} skipped · {operation.Failed:N0} failed";
    }

    /// <summary>The filter in words.</summary>
    public static string Describe(BulkFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var parts = new List<string> { filter.Status.ToString() };
        if (filter.Destination is { } destination)
        {
            parts.Add($"destination {destination}");
        }

        if (filter.Topic is { } topic)
        {
            parts.Add($"topic {topic}");
        }

        if (filter.AcceptedFrom is { } from)
        {
            parts.Add($"accepted from {from:yyyy-MM-dd HH:mm:ss}");
        }

        if (filter.AcceptedTo is { } to)
        {
            parts.Add($"accepted before {to:yyyy-MM-dd HH:mm:ss}");
        }

        if (filter.IdContains is { } id)
        {
            parts.Add($"id contains '{id}'");
        }

        return string.Join(", ", parts);
    }

    /// <summary>Done, skipped and failed as a part of the total, 0 to 100.</summary>
    public static int Percent(BulkOperationView operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        if (operation.Status == BulkOperationStatus.Completed || operation.Total == 0)
        {
            return operation.Status == BulkOperationStatus.Completed ? 100 : 0;
        }

        return (int)Math.Clamp(100 * (operation.Done + operation.Skipped + operation.Failed) / operation.Total, 0, 100);
    }
}
