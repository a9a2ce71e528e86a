using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Relay.Adapters.Ebms;

/// <summary>
/// The ebXML <c>MessageId</c> of a delivery: the same on every attempt and every resubmit of it, so that a receiving MSH
/// with duplicate elimination drops what it received already; another one once an operator edits the payload (then it
/// is another message). An RFC 2822 msg-id without its angle brackets, as ebMS 2.0 (§3.1.6.1) asks:
/// <c>{message id}.{destination}.{16 hex digits}@relay</c>, the message id and the destination's name escaped (letters,
/// digits, <c>-</c> and <c>_</c> kept, every other byte of their UTF-8 <c>%XX</c>), the digits from SHA-256 over both and
/// the payload's SHA-256. An acknowledgment that comes back later names it in <c>RefToMessageId</c>: <see cref="TryRead"/>
/// gives the delivery it belongs to, and the delivery compares the whole id with its own (an acknowledgment of the
/// payload before an edit is not one of the current payload).
/// </summary>
public static class EbmsMessageId
{
    public const string Domain = "relay";

    public static string For(string messageId, string destination, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(messageId);
        ArgumentNullException.ThrowIfNull(destination);
        Span<byte> payloadHash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(payload, payloadHash);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Field(hash, "ebms2");
        Field(hash, destination);
        Field(hash, messageId);
        hash.AppendData(payloadHash);
        return $"{Escape(messageId)}.{Escape(destination)}.{Convert.ToHexStringLower(hash.GetHashAndReset().AsSpan(0, 8))}@{Domain}";
    }

    /// <summary>The message id and destination a MessageId of <see cref="For"/>'s shape names; false for any other text.</summary>
    public static bool TryRead(string? ebmsMessageId, out string messageId, out string destination)
    {
        messageId = destination = "";
        if (ebmsMessageId is null || !ebmsMessageId.EndsWith("@" + Domain, StringComparison.Ordinal))
        {
            return false;
        }

        var parts = ebmsMessageId[..^(Domain.Length + 1)].Split('.');
        if (parts.Length != 3 || parts[2].Length != 16 || !parts[2].All(char.IsAsciiHexDigitLower)
            || Unescape(parts[0]) is not { Length: > 0 } id || Unescape(parts[1]) is not { Length: > 0 } name)
        {
            return false;
        }

        (messageId, destination) = (id, name);
        return true;
    }

    /// <summary>Letters, digits, '-' and '_' as they are; every other byte of the UTF-8 as <c>%XX</c>: a dot-atom's text, without dots.</summary>
    private static string Escape(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            if (char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'_')
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }

    private static string? Unescape(string text)
    {
        var bytes = new List<byte>(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '%' && i + 2 < text.Length
                && byte.TryParse(text.AsSpan(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var b))
            {
                bytes.Add(b);
                i += 2;
            }
            else if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_')
            {
                bytes.Add((byte)c);
            }
            else
            {
                return null;
            }
        }

        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes.ToArray());
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    private static void Field(IncrementalHash hash, string value)
    {
        // Length-prefixed, so that no two field lists hash alike.
        var bytes = Encoding.UTF8.GetBytes(value);
        hash.AppendData(BitConverter.GetBytes(bytes.Length));
        hash.AppendData(bytes);
    }
}
