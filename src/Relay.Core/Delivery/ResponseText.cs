using System.Buffers;
using System.Text;

namespace Relay.Core.Delivery;

/// <summary>
/// Turns what a destination answered (bytes) into text that every store keeps as it is, and back. Valid UTF-8
/// stays as it is; NUL, every byte that is not part of valid UTF-8, and a backslash that is followed by <c>x</c>
/// are written <c>\xHH</c> (two upper-case hex digits). Escaping that one backslash makes it reversible: in the
/// text, every <c>\x</c> followed by two hex digits is an escape, and nothing else is.
/// </summary>
/// <remarks>
/// The text holds neither NUL nor a lone surrogate, so PostgreSQL <c>text</c>/<c>jsonb</c> and SQLite store it,
/// and JSON and HTML show it readably. It is Python's <c>backslashreplace</c>, made reversible.
/// docs/ADAPTERS.md ("What a destination answered") describes it to users.
/// </remarks>
public static class ResponseText
{
    /// <summary>NUL, the backslash and every byte that is not ASCII: where plain ASCII ends.</summary>
    private static readonly SearchValues<byte> NeedsCare =
        SearchValues.Create([0, (byte)'\\', .. Enumerable.Range(0x80, 0x80).Select(b => (byte)b)]);

    /// <summary>The bytes as storable text (see the type); the common case, plain ASCII, costs one scan.</summary>
    public static string FromBytes(ReadOnlySpan<byte> bytes)
    {
        var first = bytes.IndexOfAny(NeedsCare);
        if (first < 0)
        {
            return Encoding.ASCII.GetString(bytes);
        }

        var text = new StringBuilder(bytes.Length + 16);
        text.Append(Encoding.ASCII.GetString(bytes[..first]));
        var rest = bytes[first..];
        while (!rest.IsEmpty)
        {
            var b = rest[0];
            if (b == 0 || (b == '\\' && rest.Length > 1 && rest[1] == 'x'))
            {
                AppendEscape(text, b);
                rest = rest[1..];
                continue;
            }

            if (b < 0x80)
            {
                text.Append((char)b);
                rest = rest[1..];
                continue;
            }

            // NeedMoreData (a sequence cut short at the end) and InvalidData alike: the bytes it spans are escaped.
            var status = Rune.DecodeFromUtf8(rest, out var rune, out var consumed);
            if (status == OperationStatus.Done)
            {
                text.Append(rune.ToString());
            }
            else
            {
                foreach (var invalid in rest[..consumed])
                {
                    AppendEscape(text, invalid);
                }
            }

            rest = rest[consumed..];
        }

        return text.ToString();
    }

    /// <summary>
    /// Header values as .NET reads them from the wire (one char per byte, Latin-1), as storable text: the bytes they
    /// stand for go through <see cref="FromBytes"/>, so a UTF-8 value reads as UTF-8. Chars above U+00FF (not from the
    /// wire) are kept as UTF-8.
    /// </summary>
    public static string FromWireText(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        foreach (var c in value)
        {
            if (c > 0xFF)
            {
                return FromBytes(Encoding.UTF8.GetBytes(value));
            }
        }

        return FromBytes(Encoding.Latin1.GetBytes(value));
    }

    /// <summary>Text from a reply already decoded (or composed) as .NET text: NUL and lone surrogates are escaped as their UTF-8 would be.</summary>
    public static string FromText(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.AsSpan().IndexOfAny('\0', '\\') < 0 && !HasLoneSurrogate(value))
        {
            return value;
        }

        // A lone surrogate has no UTF-8; U+FFFD stands for it (what Encoding.UTF8 writes), NUL and backslashes are escaped.
        return FromBytes(Encoding.UTF8.GetBytes(value));
    }

    /// <summary>The bytes a text of <see cref="FromBytes"/> was made from.</summary>
    public static byte[] ToBytes(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var bytes = new List<byte>(text.Length);
        var span = text.AsSpan();
        Span<byte> utf8 = stackalloc byte[4];
        var i = 0;
        while (i < span.Length)
        {
            if (span[i] == '\\' && i + 3 < span.Length && span[i + 1] == 'x'
                && IsHex(span[i + 2]) && IsHex(span[i + 3]))
            {
                bytes.Add((byte)((HexValue(span[i + 2]) << 4) | HexValue(span[i + 3])));
                i += 4;
                continue;
            }

            Rune.DecodeFromUtf16(span[i..], out var rune, out var consumed);
            var written = rune.EncodeToUtf8(utf8);
            foreach (var b in utf8[..written])
            {
                bytes.Add(b);
            }

            i += consumed;
        }

        return [.. bytes];
    }

    private static void AppendEscape(StringBuilder text, byte b) =>
        text.Append("\\x").Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));

    private static bool HasLoneSurrogate(string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(value[i]))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsHex(char c) => char.IsAsciiHexDigit(c);

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
