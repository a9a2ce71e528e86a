using System.Security.Cryptography;
using System.Text;

namespace Relay.Adapters.Ftp;

/// <summary>
/// The name a message's file gets: the destination's <c>FileName</c> template with <c>{id}</c> replaced by the
/// message id made safe for a file name. The same id always gives the same name, so a retry overwrites the file of
/// an earlier attempt instead of leaving a second one, and two different ids never give the same name.
/// </summary>
internal static class FtpFileName
{
    public const string IdPlaceholder = "{id}";

    /// <summary>Longest encoded id kept whole; longer ones are shortened with a hash (file systems stop at 255 bytes).</summary>
    internal const int MaxEncodedIdLength = 150;

    public static string Render(string template, string messageId) =>
        template.Replace(IdPlaceholder, Encode(messageId), StringComparison.Ordinal);

    /// <summary>
    /// Letters, digits, '-', '_' and '.' (except a leading one) stay; every other byte of the id's UTF-8 becomes
    /// <c>%XX</c>, '%' included, so the encoding is reversible and two ids never collide. No '/', no "..", no
    /// hidden file. An encoded id over <see cref="MaxEncodedIdLength"/> characters keeps its first 100 and appends
    /// '~' and 32 hex digits of its SHA-256.
    /// </summary>
    internal static string Encode(string messageId)
    {
        var builder = new StringBuilder(messageId.Length + 8);
        var bytes = Encoding.UTF8.GetBytes(messageId);
        for (var i = 0; i < bytes.Length; i++)
        {
            var b = bytes[i];
            var keep = b < 0x80 && (char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'_' || (b == '.' && i > 0));
            if (keep)
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

        // Cut at 100, but not inside a %XX ('%' is never kept as itself, so one is always an escape's start).
        var cut = 100;
        if (builder[cut - 1] == '%')
        {
            cut -= 1;
        }
        else if (builder[cut - 2] == '%')
        {
            cut -= 2;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(bytes))[..32];
        return builder.ToString(0, cut) + "~" + hash;
    }
}
