using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Relay.Adapters;

/// <summary>
/// A text (a message id, a destination name) made safe for a name in a protocol: an FTP file name
/// (<c>Ftp/FtpFileName</c>), a part of a mail's Message-ID (<c>Smtp/SmtpMessageId</c>). The bytes of the text's
/// UTF-8 that the protocol takes as they are stay; every other byte becomes <c>%XX</c>, '%' included, so the encoding
/// is reversible and two texts never give the same name.
/// </summary>
internal static class EscapedName
{
    /// <summary>Longest encoding kept whole; a longer one is shortened with a hash (a file name stops at 255 bytes, a header line at 998).</summary>
    public const int MaxLength = 150;

    /// <summary>How many characters of a longer encoding stay before its hash.</summary>
    private const int KeptBeforeHash = 100;

    /// <summary>Whether the byte at <c>index</c> of the text's UTF-8 stays as it is.</summary>
    public delegate bool Keeps(ReadOnlySpan<byte> bytes, int index);

    /// <summary>
    /// The encoding of <paramref name="text"/>. One over <see cref="MaxLength"/> characters keeps its first 100 (never
    /// cut inside a <c>%XX</c>, and without the trailing characters <paramref name="notLastBeforeHash"/> names) and
    /// appends '~' and 32 hex digits of the text's SHA-256 ('~' is never kept as itself, so no short text looks like that).
    /// </summary>
    public static string Encode(string text, Keeps keeps, string notLastBeforeHash = "")
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var builder = new StringBuilder(bytes.Length + 8);
        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] < 0x80 && keeps(bytes, i))
            {
                builder.Append((char)bytes[i]);
            }
            else
            {
                builder.Append('%').Append(bytes[i].ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        if (builder.Length <= MaxLength)
        {
            return builder.ToString();
        }

        // '%' is never kept as itself, so one is always an escape's start.
        var cut = KeptBeforeHash;
        if (builder[cut - 1] == '%')
        {
            cut -= 1;
        }
        else if (builder[cut - 2] == '%')
        {
            cut -= 2;
        }

        while (cut > 0 && notLastBeforeHash.Contains(builder[cut - 1], StringComparison.Ordinal))
        {
            cut--;
        }

        return builder.ToString(0, cut) + "~" + Convert.ToHexStringLower(SHA256.HashData(bytes))[..32];
    }

    /// <summary>An ASCII letter or digit, '-' or '_': kept by every protocol.</summary>
    public static bool IsPlain(byte b) => char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'_';
}
