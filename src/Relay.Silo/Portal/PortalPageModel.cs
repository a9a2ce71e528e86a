using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Relay.Core.Messages;
using Relay.Grains;
using Relay.Silo.Api;

namespace Relay.Silo.Portal;

/// <summary>
/// What every portal page shares: who the operator is, the confirmation step of an action (a second POST, so it
/// works without script), and running an action: its outcome becomes the banner of the page it redirects to.
/// </summary>
public abstract partial class PortalPageModel(ILogger logger) : PageModel
{
    public const string FlashKey = "relay.flash";
    public const string FlashErrorKey = "relay.flash.error";

    /// <summary>The action waiting for the operator's confirmation, shown above the page.</summary>
    public Confirmation? Confirm { get; protected set; }

    /// <summary>An error to show on this page (not carried over a redirect).</summary>
    public string? Error { get; protected set; }

    /// <summary>Who does an action, for the audit: the name of the operator's key ("anonymous" without keys).</summary>
    protected string OperatorName => OperatorEndpoints.Operator(HttpContext);

    /// <summary>Runs an action; its success (the text it answers) or its error is shown on <paramref name="then"/>.</summary>
    protected async Task<IActionResult> ActAsync(Func<Task<string>> action, string then)
    {
        try
        {
            TempData[FlashKey] = Bounded(await action());
        }
        catch (RelayErrorException ex)
        {
            TempData[FlashErrorKey] = Bounded(Describe(ex.Error));
        }
        catch (RelayGrainException ex)
        {
            TempData[FlashErrorKey] = Bounded(Describe(ex.ToError()));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.ActionFailed(logger, ex, Request.Path);
            TempData[FlashErrorKey] = Describe(Messaging.MessageService.Unavailable);
        }

        return LocalRedirect(then);
    }

    /// <summary>
    /// A banner carried over the redirect in the TempData cookie: it may quote what the operator typed (a destination
    /// name), so it is bounded; a 200 KB name would otherwise make a response header no client accepts.
    /// </summary>
    protected static string Bounded(string text) => text.Length <= MaxFlashLength ? text : text[..MaxFlashLength] + "…";

    private const int MaxFlashLength = 500;

    protected static string Describe(RelayError error) => error.Detail is null ? error.Title : $"{error.Title} {error.Detail}";

    private static partial class Log
    {
        [LoggerMessage(EventId = 4101, Level = LogLevel.Error, Message = "Portal action {Path} failed: storage or cluster unavailable")]
        public static partial void ActionFailed(ILogger logger, Exception exception, string path);
    }
}

/// <summary>An action the operator is asked to confirm: what it does, and the fields to post again with <c>confirmed=true</c>.</summary>
public sealed record Confirmation(string Title, string Text, string Action, IReadOnlyList<KeyValuePair<string, string>> Fields)
{
    public string Button { get; init; } = "Confirm";

    public bool Danger { get; init; }

    /// <summary>The edited payload, shown as text before it is sent.</summary>
    public PayloadView? Preview { get; init; }

    public string CancelUrl { get; init; } = "";
}
