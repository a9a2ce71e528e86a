using Microsoft.AspNetCore.Mvc;
using Relay.Grains.Operations;
using Relay.Silo.Operating;

namespace Relay.Silo.Portal;

/// <summary><c>/portal/operations/{id}</c>: one bulk operation's progress (the page refreshes itself while it runs), and its cancel.</summary>
public sealed class OperationModel(OperatorActions actions, ILogger<OperationModel> logger) : PortalPageModel(logger)
{
    /// <summary>How often the page of a running operation reloads itself (a meta refresh: the portal runs no script).</summary>
    public const int RefreshSeconds = 2;

    public BulkOperationView? Operation { get; private set; }

    public async Task<IActionResult> OnGetAsync(string id)
    {
        Operation = await actions.GetOperationAsync(id);
        return Operation is null ? NotFound() : Page();
    }

    public async Task<IActionResult> OnPostCancelAsync(string id, bool confirmed)
    {
        Operation = await actions.GetOperationAsync(id);
        if (Operation is null)
        {
            return NotFound();
        }

        if (!confirmed)
        {
            Confirm = new Confirmation(
                "Cancel this bulk operation?",
                $"It stops before its next step; what it did stays done ({OperationsModel.Progress(Operation)}).",
                "?handler=Cancel",
                [])
            {
                Button = "Cancel the operation",
                Danger = true,
                CancelUrl = OperationsModel.Link(id),
            };
            return Page();
        }

        return await ActAsync(async () =>
        {
            var after = await actions.CancelOperationAsync(id, OperatorName);
            return after?.Status == BulkOperationStatus.Cancelled
                ? $"Cancelled: {OperationsModel.Progress(after)}."
                : $"The operation had already ended ({after?.Status}).";
        }, OperationsModel.Link(id));
    }
}
