using System.Globalization;

namespace Relay.Core.Topics.Filters;

/// <summary>What a name or a literal of a filter stands for in one message.</summary>
internal enum FilterValueKind : byte
{
    /// <summary>The name resolves to nothing: no header, no JSON field, not a known property.</summary>
    Missing,
    /// <summary>A JSON <c>null</c>.</summary>
    Null,
    /// <summary>Untyped text: a header, <c>correlationId</c>, <c>contentType</c>. Read as a number or a boolean when compared with one.</summary>
    Text,
    /// <summary>A typed string: a JSON string, or a string literal.</summary>
    String,
    Number,
    Boolean,
    /// <summary>A JSON object or array: it exists, and compares with nothing.</summary>
    Other,
}

internal readonly record struct FilterValue(FilterValueKind Kind, string? Text = null, double Number = 0, bool Boolean = false,
    bool TextIsNumber = false, bool TextIsBoolean = false)
{
    public static readonly FilterValue Missing = new(FilterValueKind.Missing);
    public static readonly FilterValue Null = new(FilterValueKind.Null);
    public static readonly FilterValue Other = new(FilterValueKind.Other);

    /// <summary>
    /// Untyped text, read at once as a number (invariant culture: <c>200</c>, <c>-1.5</c>, <c>1e3</c>) and as a
    /// boolean (<c>true</c>, <c>false</c>, any case) when it is one: once per name and message, not per comparison.
    /// </summary>
    public static FilterValue Untyped(string text)
    {
        var isNumber = double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number);
        var isBoolean = bool.TryParse(text, out var boolean);
        return new(FilterValueKind.Text, text, isNumber ? number : 0, boolean, isNumber, isBoolean);
    }

    public static FilterValue Of(string text) => new(FilterValueKind.String, text);
    public static FilterValue Of(double number) => new(FilterValueKind.Number, Number: number);
    public static FilterValue Of(bool boolean) => new(FilterValueKind.Boolean, Boolean: boolean);

    public bool IsTextual => Kind is FilterValueKind.Text or FilterValueKind.String;

    /// <summary>Untyped text as a number, when it is one.</summary>
    public bool TryNumber(out double number)
    {
        number = Number;
        return Kind == FilterValueKind.Text && TextIsNumber;
    }

    /// <summary>Untyped text as a boolean, when it is one.</summary>
    public bool TryBoolean(out bool boolean)
    {
        boolean = Boolean;
        return Kind == FilterValueKind.Text && TextIsBoolean;
    }
}

/// <summary>SQL's three truth values: a comparison with a missing value, or between values of unlike types, is neither true nor false.</summary>
internal enum Truth : byte
{
    False,
    True,
    Unknown,
}
