using System.Globalization;
using System.Text;

namespace Relay.Adapters.Ldap;

/// <summary>One attribute type and value of an RDN: the type in lower case, the value unescaped.</summary>
internal readonly record struct LdapAva(string Type, string Value);

/// <summary>
/// A distinguished name parsed as RFC 4514 writes it, strictly, to decide whether an entry lies within a
/// destination's base DN: RDN by RDN from the right, each RDN a set of <c>type=value</c> (joined by <c>+</c>),
/// attribute types compared without regard to case, values unescaped (<c>\,</c>, <c>\2C</c>, multi-byte UTF-8 in
/// <c>\xx</c> pairs) and compared without regard to case, as the naming attributes of a directory (dc, ou, o, cn,
/// uid: caseIgnoreMatch) are. Never a comparison of strings: <c>cn=x,dc=evilexample,dc=com</c> ends with the text
/// <c>example,dc=com</c> but is not within <c>dc=example,dc=com</c>.
/// </summary>
/// <remarks>
/// Where this parser and the server could read a DN differently, the DN is refused: the separator <c>;</c>, quoted
/// values, values in the <c>#</c> BER form, <c>OID.</c> prefixes, a bare special character in a value, bytes that are not
/// UTF-8. Spaces around separators and unescaped leading or trailing spaces of a value are dropped, as OpenLDAP does.
/// A type written as its OID (<c>2.5.4.3=</c>) is not taken as its name (<c>cn=</c>): such a DN is outside a base
/// written with names, which errs on the side of refusing.
/// </remarks>
internal sealed class LdapDn
{
    private LdapDn(IReadOnlyList<IReadOnlyList<LdapAva>> rdns) => Rdns = rdns;

    /// <summary>The RDNs, leftmost (the entry's own) first; each RDN's AVAs sorted by type then value.</summary>
    public IReadOnlyList<IReadOnlyList<LdapAva>> Rdns { get; }

    /// <summary>Whether this DN is <paramref name="baseDn"/> or an entry below it.</summary>
    public bool IsWithin(LdapDn baseDn)
    {
        var offset = Rdns.Count - baseDn.Rdns.Count;
        if (offset < 0)
        {
            return false;
        }

        for (var i = 0; i < baseDn.Rdns.Count; i++)
        {
            if (!SameRdn(Rdns[offset + i], baseDn.Rdns[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static bool SameRdn(IReadOnlyList<LdapAva> a, IReadOnlyList<LdapAva> b)
    {
        if (a.Count != b.Count)
        {
            return false;
        }

        for (var i = 0; i < a.Count; i++)
        {
            if (!string.Equals(a[i].Type, b[i].Type, StringComparison.Ordinal)
                || !string.Equals(a[i].Value, b[i].Value, StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Parses <paramref name="text"/>; false with the problem (which names no part of the DN) when it is none.</summary>
    public static bool TryParse(string? text, out LdapDn dn, out string problem)
    {
        dn = null!;
        if (string.IsNullOrWhiteSpace(text))
        {
            problem = "the DN is empty";
            return false;
        }

        var rdns = new List<IReadOnlyList<LdapAva>>();
        var avas = new List<LdapAva>();
        var position = 0;
        while (true)
        {
            SkipSpaces(text, ref position);
            if (!TryType(text, ref position, out var type, out problem))
            {
                return false;
            }

            SkipSpaces(text, ref position);
            if (position >= text.Length || text[position] != '=')
            {
                problem = "an attribute type is not followed by '='";
                return false;
            }

            position++;
            SkipSpaces(text, ref position);
            if (!TryValue(text, ref position, out var value, out problem))
            {
                return false;
            }

            avas.Add(new LdapAva(type, value));
            if (position >= text.Length)
            {
                rdns.Add(Sorted(avas));
                break;
            }

            var separator = text[position++];
            if (separator == ',')
            {
                rdns.Add(Sorted(avas));
                avas = [];
            }
            else if (separator != '+')
            {
                problem = "an RDN is not followed by ',' or '+'";
                return false;
            }
        }

        foreach (var rdn in rdns)
        {
            for (var i = 1; i < rdn.Count; i++)
            {
                if (rdn[i] == rdn[i - 1])
                {
                    problem = "an RDN names the same type and value twice";
                    return false;
                }
            }
        }

        dn = new LdapDn(rdns);
        problem = "";
        return true;
    }

    private static IReadOnlyList<LdapAva> Sorted(List<LdapAva> avas) =>
        avas.OrderBy(a => a.Type, StringComparer.Ordinal).ThenBy(a => a.Value.ToUpperInvariant(), StringComparer.Ordinal).ToList();

    private static void SkipSpaces(string text, ref int position)
    {
        while (position < text.Length && text[position] == ' ')
        {
            position++;
        }
    }

    // descr (a letter, then letters, digits, '-') or a numeric OID; compared in lower case.
    private static bool TryType(string text, ref int position, out string type, out string problem)
    {
        var start = position;
        if (position < text.Length && IsAsciiLetter(text[position]))
        {
            while (position < text.Length && (IsAsciiLetter(text[position]) || char.IsAsciiDigit(text[position]) || text[position] == '-'))
            {
                position++;
            }
        }
        else if (position < text.Length && char.IsAsciiDigit(text[position]))
        {
            while (position < text.Length && (char.IsAsciiDigit(text[position]) || text[position] == '.'))
            {
                position++;
            }

            var oid = text[start..position];
            if (oid.EndsWith('.') || oid.Contains("..", StringComparison.Ordinal))
            {
                type = "";
                problem = "an attribute type is not a valid OID";
                return false;
            }
        }

        type = text[start..position].ToLowerInvariant();
        if (type.Length == 0)
        {
            problem = "an attribute type is missing or has characters a type cannot have";
            return false;
        }

        if (type == "oid" && position < text.Length && text[position] == '.')
        {
            problem = "an attribute type has the OID. prefix";
            return false;
        }

        problem = "";
        return true;
    }

    private static bool TryValue(string text, ref int position, out string value, out string problem)
    {
        value = "";
        if (position < text.Length && (text[position] == '#' || text[position] == '"'))
        {
            problem = "a value in the '#' (BER) or quoted form";
            return false;
        }

        var bytes = new List<byte>();
        var utf8 = new byte[4];
        // Length of the value up to its last escaped character or non-space: unescaped trailing spaces are dropped.
        var significant = 0;
        while (position < text.Length)
        {
            var c = text[position];
            if (c is ',' or '+')
            {
                break;
            }

            if (c == '\\')
            {
                if (position + 1 >= text.Length)
                {
                    problem = "a value ends with a lone '\\'";
                    return false;
                }

                var next = text[position + 1];
                if (IsSpecial(next) || next == ' ' || next == '#' || next == '=')
                {
                    bytes.Add((byte)next);
                    position += 2;
                }
                else if (position + 2 < text.Length && char.IsAsciiHexDigit(next) && char.IsAsciiHexDigit(text[position + 2]))
                {
                    bytes.Add(byte.Parse(text.AsSpan(position + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                    position += 3;
                }
                else
                {
                    problem = "a value has an escape that is neither a special character nor two hex digits";
                    return false;
                }

                significant = bytes.Count;
                continue;
            }

            if (c is '"' or ';' or '<' or '>' || char.IsControl(c))
            {
                problem = "a value has a special character that is not escaped";
                return false;
            }

            var length = Encoding.UTF8.GetBytes(text.AsSpan(position, char.IsHighSurrogate(c) && position + 1 < text.Length ? 2 : 1), utf8);
            bytes.AddRange(utf8.AsSpan(0, length).ToArray());
            position += char.IsHighSurrogate(c) ? 2 : 1;
            if (c != ' ')
            {
                significant = bytes.Count;
            }
        }

        try
        {
            value = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes.ToArray(), 0, significant);
        }
        catch (DecoderFallbackException)
        {
            problem = "a value's escaped bytes are not UTF-8";
            return false;
        }

        if (value.Length == 0)
        {
            problem = "a value is empty";
            return false;
        }

        problem = "";
        return true;
    }

    private static bool IsSpecial(char c) => c is '"' or '+' or ',' or ';' or '<' or '>' or '\\';

    private static bool IsAsciiLetter(char c) => char.IsAsciiLetter(c);
}
