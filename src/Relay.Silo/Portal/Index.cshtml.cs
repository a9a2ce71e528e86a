using Microsoft.AspNetCore.Mvc;
using Relay.Silo.Operating;

namespace Relay.Silo.Portal;

/// <summary><c>/portal</c>: every destination with its counts, state and attempts chart; pause and resume.</summary>
public sealed class IndexModel(PortalQueries queries, OperatorActions actions, ILogger<IndexModel> logger) : PortalPageModel(logger)
{
    public Overview? Overview { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        Overview = await queries.OverviewAsync(cancellationToken);
        return Page();
    }

    public Task<IActionResult> OnPostPauseAsync(string? destination, bool confirmed, CancellationToken cancellationToken) =>
        SetPausedAsync(destination, paused: true, confirmed, cancellationToken);

    public Task<IActionResult> OnPostResumeAsync(string? destination, bool confirmed, CancellationToken cancellationToken) =>
        SetPausedAsync(destination, paused: false, confirmed, cancellationToken);

    private async Task<IActionResult> SetPausedAsync(string? destination, bool paused, bool confirmed, CancellationToken cancellationToken)
    {
        var verb = paused ? "Pause" : "Resume";
        if (string.IsNullOrEmpty(destination))
        {
            TempData[FlashErrorKey] = "Name the destination.";
            return LocalRedirect("/portal");
        }

        if (!confirmed)
        {
            Confirm = new Confirmation(
                $"{verb} '{destination}'?",
                paused
                    ? "No attempt goes to it until it is resumed; new messages are accepted and wait as Pending, retries wait too."
                    : "Attempts to it start again: the deliveries waiting for it go out at the pace of its limits.",
                $"?handler={verb}",
                [new("destination", destination)])
            {
                Button = verb,
                Danger = paused,
                CancelUrl = "/portal",
            };
            Overview = await queries.OverviewAsync(cancellationToken);
            return Page();
        }

        return await ActAsync(async () =>
        {
            await actions.SetPausedAsync(destination, paused, OperatorName);
            return paused ? $"Paused '{destination}'." : $"Resumed '{destination}'.";
        }, "/portal");
    }
}
