using System.Text;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.Extensions.Options;
using Relay.Contracts;
using Relay.Core.Options;
using Relay.Grains.Delivery;
using Relay.Silo.Api;
using Relay.Silo.Operating;

namespace Relay.Silo.Portal;

/// <summary>
/// <c>/portal/messages/{id}</c>: a message's deliveries, its whole audit and its payload (as text); edit and resubmit a
/// dead-lettered delivery, resubmit or discard one, each after a confirmation.
/// </summary>
public sealed class MessageModel(PortalQueries queries, OperatorActions actions, IOptions<RelayOptions> options, ILogger<MessageModel> logger)
    : PortalPageModel(logger)
{
    [FromRoute(Name = "id")]
    public string Id { get; set; } = "";

    public MessageDetails? Details { get; private set; }

    public RelayOptions Relay => options.Value;

    /// <summary>The delivery the edit form is for (the first dead-lettered one unless one is chosen).</summary>
    public string? EditDestination { get; private set; }

    public string SelfUrl => MessagesModel.Link(Id);

    /// <summary>The operator's edit while it waits for confirmation, so that the form below still holds it.</summary>
    public string? EditText { get; private set; }

    /// <summary>The payload each delivery carries; deliveries that carry the same bytes share one entry.</summary>
    public IReadOnlyList<(IReadOnlyList<string> Destinations, DeliveryContent Content, PayloadView View)> Payloads { get; private set; } = [];

    /// <summary>
    /// The id as the browser sent it, before any handler runs: the confirmed resubmit and discard act on it without
    /// loading the page first (Kestrel leaves an encoded '/' encoded in the route value; see <see cref="PathIds"/>).
    /// </summary>
    public override void OnPageHandlerExecuting(PageHandlerExecutingContext context)
    {
        // Model binding makes a white-space-only route value null (no valid id is only white space: the page is a 404).
        Id = PathIds.FromRoute(HttpContext, Id ?? "");
        base.OnPageHandlerExecuting(context);
    }

    public async Task<IActionResult> OnGetAsync(string? edit, CancellationToken cancellationToken) =>
        await LoadAsync(edit, cancellationToken) ? Page() : NotFoundPage();

    /// <summary>Step one of an edit: show what will be sent, and ask.</summary>
    public async Task<IActionResult> OnPostEditAsync(string? destination, string? payload, string? contract, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(destination, cancellationToken))
        {
            return NotFoundPage();
        }

        var target = Details!.Message.Deliveries.FirstOrDefault(d => d.Destination == destination);
        if (target is null || target.Status != DeliveryStatus.DeadLettered)
        {
            Error = $"Only a dead-lettered delivery can be edited; '{destination}' is {(target is null ? "not one of this message's deliveries" : target.Status.ToString())}.";
            return Page();
        }

        var current = Details.Contents.GetValueOrDefault(target.Destination);
        var edited = Edited(payload, current);
        contract = string.IsNullOrEmpty(contract) ? null : contract;
        try
        {
            actions.CheckEdit(edited is null ? null : Encoding.UTF8.GetBytes(edited), contract);
        }
        catch (Core.Messages.RelayErrorException ex)
        {
            Error = Describe(ex.Error);
            return Page();
        }

        EditText = payload;
        var changes = new List<string>();
        if (edited is not null)
        {
            changes.Add($"the payload as below ({Format.Bytes(Encoding.UTF8.GetByteCount(edited))})");
        }

        if (contract is not null)
        {
            changes.Add($"contract '{contract}'");
        }

        var fields = new List<KeyValuePair<string, string>> { new("destination", target.Destination) };
        if (edited is not null)
        {
            fields.Add(new("payload", edited));
        }

        if (contract is not null)
        {
            fields.Add(new("contract", contract));
        }

        Confirm = new Confirmation(
            $"Resubmit to '{target.Destination}'?",
            (changes.Count == 0 ? "Nothing was changed; it is sent again as it was" : "It is sent again with " + string.Join(" and ", changes))
            + ", with attempts counted afresh. Other deliveries of this message are not touched.",
            "?handler=Resubmit",
            fields)
        {
            Button = "Resubmit",
            Preview = edited is null ? null : PayloadView.Of(Encoding.UTF8.GetBytes(edited), current?.ContentType),
            CancelUrl = SelfUrl,
        };
        return Page();
    }

    public async Task<IActionResult> OnPostResubmitAsync(string? destination, string? payload, string? contract, bool confirmed, CancellationToken cancellationToken)
    {
        contract = string.IsNullOrEmpty(contract) ? null : contract;
        if (!confirmed)
        {
            if (!await LoadAsync(destination, cancellationToken))
            {
                return NotFoundPage();
            }

            Confirm = new Confirmation(
                $"Resubmit to '{destination}'?",
                "It is sent again as it is, with attempts counted afresh. Other deliveries of this message are not touched.",
                "?handler=Resubmit",
                [new("destination", destination ?? "")])
            {
                Button = "Resubmit",
                CancelUrl = SelfUrl,
            };
            return Page();
        }

        return await ActAsync(async () =>
        {
            var after = await actions.ResubmitAsync(Id, string.IsNullOrEmpty(destination) ? null : destination,
                payload is null ? null : Encoding.UTF8.GetBytes(payload), contract, OperatorName, cancellationToken);
            var now = after.Deliveries.Where(d => string.IsNullOrEmpty(destination) || d.Destination == destination).Select(d => $"{d.Destination}: {d.Status}");
            return $"Resubmitted{(payload is null ? "" : " with the edited payload")}. Now {string.Join(", ", now)}.";
        }, SelfUrl);
    }

    public async Task<IActionResult> OnPostDiscardAsync(string? destination, bool confirmed, CancellationToken cancellationToken)
    {
        if (!confirmed)
        {
            if (!await LoadAsync(null, cancellationToken))
            {
                return NotFoundPage();
            }

            Confirm = new Confirmation(
                $"Discard the delivery to '{destination}'?",
                "It leaves the dead-letter list for good (Discarded) and is never sent. The audit keeps it.",
                "?handler=Discard",
                [new("destination", destination ?? "")])
            {
                Button = "Discard",
                Danger = true,
                CancelUrl = SelfUrl,
            };
            return Page();
        }

        return await ActAsync(async () =>
        {
            await actions.DiscardAsync(Id, string.IsNullOrEmpty(destination) ? null : destination, OperatorName, cancellationToken);
            return $"Discarded the delivery to '{destination}'.";
        }, SelfUrl);
    }

    /// <summary>
    /// The operator's text, or null when it is the stored payload unchanged. A browser sends a textarea's line breaks as
    /// CRLF: they are taken back to LF unless the stored payload had CRLF itself.
    /// </summary>
    private static string? Edited(string? submitted, DeliveryContent? current)
    {
        if (submitted is null)
        {
            return null;
        }

        var currentText = current is null ? null : PayloadView.Of(current.Payload, current.ContentType).EditableText;
        var text = currentText is not null && currentText.Contains("\r\n", StringComparison.Ordinal) ? submitted : submitted.Replace("\r\n", "\n", StringComparison.Ordinal);
        return text == currentText ? null : text;
    }

    private async Task<bool> LoadAsync(string? editDestination, CancellationToken cancellationToken)
    {
        Details = await queries.MessageAsync(Id, cancellationToken);
        if (Details is null)
        {
            return false;
        }

        var dead = Details.Message.Deliveries.Where(d => d.Status == DeliveryStatus.DeadLettered).Select(d => d.Destination).ToList();
        EditDestination = editDestination is not null && dead.Contains(editDestination) ? editDestination : dead.FirstOrDefault();
        Payloads = Details.Contents
            .GroupBy(c => Convert.ToBase64String(c.Value.Payload) + "|" + c.Value.ContentType)
            .Select(g => ((IReadOnlyList<string>)g.Select(c => c.Key).ToList(), g.First().Value, PayloadView.Of(g.First().Value.Payload, g.First().Value.ContentType)))
            .ToList();
        return true;
    }

    private IActionResult NotFoundPage()
    {
        Error = $"No message with id '{Id}'.";
        Response.StatusCode = StatusCodes.Status404NotFound;
        return Page();
    }
}
