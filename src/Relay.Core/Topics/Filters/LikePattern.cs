namespace Relay.Core.Topics.Filters;

/// <summary>
/// A <c>LIKE</c> pattern, compiled: <c>%</c> any run of characters (none included), <c>_</c> exactly one, anything else
/// itself (case-sensitive); with an <c>ESCAPE</c> character, that character makes the next <c>%</c>, <c>_</c> or
/// itself literal. Matched without regular expressions, by the greedy wildcard walk with one backtrack point: time
/// linear in the text for each <c>%</c>, never exponential.
/// </summary>
internal sealed class LikePattern
{
    private enum Kind : byte
    {
        Char,
        One,
        Any,
    }

    private readonly (Kind Kind, char Char)[] _parts;

    private LikePattern((Kind, char)[] parts, string text)
    {
        _parts = parts;
        Text = text;
    }

    public string Text { get; }

    /// <summary>The pattern, or the reason it cannot be one and the offset of the fault within it.</summary>
    public static LikePattern? TryCreate(string pattern, char? escape, out string? error, out int errorOffset)
    {
        var parts = new List<(Kind, char)>(pattern.Length);
        error = null;
        errorOffset = 0;
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (escape == c)
            {
                if (i + 1 < pattern.Length && (pattern[i + 1] is '%' or '_' || pattern[i + 1] == escape))
                {
                    parts.Add((Kind.Char, pattern[++i]));
                    continue;
                }

                error = $"the escape character '{c}' must be followed by %, _ or itself";
                errorOffset = i;
                return null;
            }

            parts.Add(c switch
            {
                '%' => (Kind.Any, c),
                '_' => (Kind.One, c),
                _ => (Kind.Char, c),
            });
        }

        return new LikePattern([.. parts], pattern);
    }

    public bool IsMatch(string text)
    {
        var parts = _parts;
        int t = 0, p = 0, star = -1, resume = 0;
        while (t < text.Length)
        {
            if (p < parts.Length && (parts[p].Kind == Kind.One || (parts[p].Kind == Kind.Char && parts[p].Char == text[t])))
            {
                t++;
                p++;
            }
            else if (p < parts.Length && parts[p].Kind == Kind.Any)
            {
                star = p++;
                resume = t;
            }
            else if (star >= 0)
            {
                // The last % takes one more character; everything after it is tried again from there.
                p = star + 1;
                t = ++resume;
            }
            else
            {
                return false;
            }
        }

        while (p < parts.Length && parts[p].Kind == Kind.Any)
        {
            p++;
        }

        return p == parts.Length;
    }
}
