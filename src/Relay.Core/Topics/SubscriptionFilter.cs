using Relay.Core.Topics.Filters;

namespace Relay.Core.Topics;

/// <summary>
/// A subscription's filter, compiled once (at start-up, or per catalog version) and then evaluated for each message:
/// a pure, immutable object, safe to share between threads. The language is docs/TOPICS.md's, in the style of Azure
/// Service Bus SQL filters.
/// </summary>
public sealed class SubscriptionFilter
{
    /// <summary>The longest filter accepted, in characters.</summary>
    public const int MaxLength = 4096;

    private readonly FilterNode _root;

    private SubscriptionFilter(string text, FilterNode root)
    {
        Text = text;
        _root = root;
    }

    /// <summary>The filter as written.</summary>
    public string Text { get; }

    /// <summary>Compiles <paramref name="text"/>; on failure, <paramref name="error"/> says what is wrong and at which column.</summary>
    public static bool TryCompile(string text, out SubscriptionFilter? filter, out FilterError? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        filter = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = new FilterError(1, "the filter is empty");
            return false;
        }

        if (text.Length > MaxLength)
        {
            error = new FilterError(MaxLength + 1, $"a filter is at most {MaxLength} characters long");
            return false;
        }

        var root = FilterParser.TryParse(text, out error);
        if (root is null)
        {
            return false;
        }

        filter = new SubscriptionFilter(text, root);
        return true;
    }

    /// <summary>Compiles <paramref name="text"/>, or throws <see cref="FormatException"/> naming the column.</summary>
    public static SubscriptionFilter Compile(string text) =>
        TryCompile(text, out var filter, out var error) ? filter! : throw new FormatException($"Not a valid filter, {error}.");

    /// <summary>
    /// Whether the message matches: the filter is true for it. A filter that is false, or unknown (it compared a
    /// missing value, or values of unlike types), does not match.
    /// </summary>
    public bool Matches(MessageProperties message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return _root.Evaluate(message) == Truth.True;
    }

    public override string ToString() => Text;
}
