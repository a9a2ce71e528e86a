using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace Relay.Storage.AdoNet;

/// <summary>
/// Where a page of the message list ended: the last message's accepted_at (unix milliseconds) and id, handed out as
/// base64url. The same form as the SQLite backend's, so a cursor means the same on either.
/// </summary>
internal readonly record struct MessageCursor(long AcceptedAtMs, string MessageId)
{
    public DateTimeOffset AcceptedAt => DateTimeOffset.FromUnixTimeMilliseconds(AcceptedAtMs);

    public override string ToString() =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{AcceptedAtMs}|{MessageId}")));

    public static MessageCursor Parse(string cursor)
    {
        try
        {
            var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
            var bar = text.IndexOf('|', StringComparison.Ordinal);
            if (bar > 0
                && long.TryParse(text.AsSpan(0, bar), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var acceptedAt)
                && acceptedAt >= DateTimeOffset.MinValue.ToUnixTimeMilliseconds()
                && acceptedAt <= DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())
            {
                return new MessageCursor(acceptedAt, text[(bar + 1)..]);
            }
        }
        catch (FormatException)
        {
        }

        throw new ArgumentException("The cursor is not one this listing handed out.", nameof(cursor));
    }
}
