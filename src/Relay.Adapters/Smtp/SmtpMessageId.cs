using System.Security.Cryptography;
using System.Text;

namespace Relay.Adapters.Smtp;

/// <summary>
/// The Message-ID of a message's mail: <c>&lt;{id}.{destination}@{domain of From}&gt;</c>, each part encoded to
/// RFC 5322 dot-atom text. It is the same on every attempt and every resubmit of the delivery, so a receiver (or
/// a person) recognises a mail sent again after a lost reply; the destination name keeps two SMTP destinations of
/// one message apart.
/// </summary>
internal static class SmtpMessageId
{
    /// <summary>The right-hand side when From has no domain.</summary>
    internal const string FallbackDomain = "relay.invalid";

    /// <summary>
    /// Longest encoded part kept whole (a header line stops at 998); a longer one keeps its first 100 characters and
    /// appends '~' and 32 hex digits of its SHA-256 ('~' is never kept as itself, so no short id can look like that).
    /// </summary>
    internal const int MaxEncodedIdLength = 150;

    /// <summary>The Message-ID without its angle brackets, as MimeKit takes it.</summary>
    public static string For(string messageId, string destination, string? domain) =>
        $"{Encode(messageId)}.{Encode(destination)}@{(string.IsNullOrEmpty(domain) ? FallbackDomain : domain)}";

    /// <summary>
    /// Letters, digits, '-', '_' stay, and '.' between two of them; every other byte of the UTF-8 becomes
    /// <c>%XX</c> ('%' included), so the encoding is reversible and the result is a dot-atom.
    /// </summary>
    internal static string Encode(string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        var builder = new StringBuilder(bytes.Length + 8);
        for (var i = 0; i < bytes.Length; i++)
        {
            var b = bytes[i];
            var plain = b < 0x80 && (char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'_');
            var innerDot = b == '.' && i > 0 && i < bytes.Length - 1 && bytes[i - 1] != '.' && bytes[i + 1] != '.';
            if (plain || innerDot)
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        if (builder.Length <= MaxEncodedIdLength)
        {
            return builder.ToString();
        }

        var cut = 100;
        if (builder[cut - 1] == '%')
        {
            cut -= 1;
        }
        else if (builder[cut - 2] == '%')
        {
            cut -= 2;
        }

        // A dot-atom may not end a part with '.'.
        while (cut > 0 && builder[cut - 1] == '.')
        {
            cut--;
        }

        return builder.ToString(0, cut) + "~" + Convert.ToHexStringLower(SHA256.HashData(bytes))[..32];
    }
}
