using System.Globalization;
using Relay.Contracts;
using Relay.Core.Storage;

namespace Relay.Silo.Portal;

/// <summary>The message list's filter as the form sends it (strings), checked into a <see cref="MessageQuery"/>.</summary>
public sealed class MessageFilter
{
    public const int PageSize = 50;

    public string? Status { get; set; }
    public string? Destination { get; set; }
    public string? Topic { get; set; }
    /// <summary>Accepted at or after, UTC (<c>yyyy-MM-ddTHH:mm[:ss]</c>).</summary>
    public string? From { get; set; }
    /// <summary>Accepted before, UTC.</summary>
    public string? To { get; set; }
    /// <summary>Text the id contains.</summary>
    public string? Id { get; set; }
    public string? Cursor { get; set; }

    /// <summary>The query, or the first problem with the filter (a person can act on it).</summary>
    public (MessageQuery? Query, string? Problem) ToQuery()
    {
        DeliveryStatus? status = null;
        if (!string.IsNullOrEmpty(Status))
        {
            if (!Enum.TryParse<DeliveryStatus>(Status, ignoreCase: true, out var parsed) || int.TryParse(Status, out _))
            {
                return (null, $"Unknown status '{Status}'.");
            }

            status = parsed;
        }

        if (!TryTime(From, out var from))
        {
            return (null, $"'{From}' is not a time (give yyyy-MM-ddTHH:mm, UTC).");
        }

        if (!TryTime(To, out var to))
        {
            return (null, $"'{To}' is not a time (give yyyy-MM-ddTHH:mm, UTC).");
        }

        var id = string.IsNullOrWhiteSpace(Id) ? null : Id.Trim();
        if (id is { Length: > RelayStoreLimits.MaxIdContainsLength })
        {
            return (null, $"The id text may be at most {RelayStoreLimits.MaxIdContainsLength} characters.");
        }

        return (new MessageQuery
        {
            Status = status,
            Destination = string.IsNullOrEmpty(Destination) ? null : Destination,
            Topic = string.IsNullOrEmpty(Topic) ? null : Topic,
            AcceptedFrom = from,
            AcceptedTo = to,
            IdContains = id,
            Cursor = string.IsNullOrEmpty(Cursor) ? null : Cursor,
            Limit = PageSize,
        }, null);
    }

    /// <summary>The filter's fields (not the cursor) as name/value pairs, for links and hidden fields.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Fields() =>
        new KeyValuePair<string, string?>[]
        {
            new("status", Status), new("destination", Destination), new("topic", Topic), new("from", From), new("to", To), new("id", Id),
        }
        .Where(f => !string.IsNullOrEmpty(f.Value))
        .Select(f => new KeyValuePair<string, string>(f.Key, f.Value!))
        .ToList();

    /// <summary>The list's URL with this filter, optionally at a cursor.</summary>
    public string Url(string? cursor = null)
    {
        var fields = Fields().ToList();
        if (cursor is not null)
        {
            fields.Add(new("cursor", cursor));
        }

        var url = fields.Count == 0
            ? "/portal/messages"
            : "/portal/messages?" + string.Join("&", fields.Select(f => Uri.EscapeDataString(f.Key) + "=" + Uri.EscapeDataString(f.Value)));

        // A redirect's Location: a filter no list could need (a posted 200 KB field) must not make a header no client reads.
        return url.Length <= MaxUrlLength ? url : "/portal/messages";
    }

    private const int MaxUrlLength = 4096;

    private static bool TryTime(string? text, out DateTimeOffset? value)
    {
        value = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        if (DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var parsed))
        {
            value = new DateTimeOffset(DateTime.SpecifyKind(parsed, DateTimeKind.Utc));
            return true;
        }

        return false;
    }
}
