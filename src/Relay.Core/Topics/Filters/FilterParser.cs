using System.Globalization;
using Superpower;
using Superpower.Model;
using Superpower.Parsers;

namespace Relay.Core.Topics.Filters;

/// <summary>
/// The grammar of a subscription filter (docs/TOPICS.md), as Superpower combinators over <see cref="FilterTokenizer"/>'s
/// tokens. Precedence, loosest first: <c>OR</c>, <c>AND</c>, <c>NOT</c>, then a predicate.
/// <code>
/// filter     := or END
/// or         := and { OR and }
/// and        := unary { AND unary }
/// unary      := NOT unary | primary
/// primary    := '(' or ')' | EXISTS '(' name ')' | predicate
/// predicate  := operand ( compare operand | IS [NOT] NULL | [NOT] LIKE string [ESCAPE string] | [NOT] IN '(' literal { ',' literal } ')' )
/// operand    := name | literal
/// literal    := string | number | TRUE | FALSE
/// compare    := '=' | '&lt;&gt;' | '!=' | '&lt;' | '&lt;=' | '&gt;' | '&gt;='
/// </code>
/// </summary>
internal static class FilterParser
{
    private static readonly TokenListParser<FilterToken, string> Name =
        Token.EqualTo(FilterToken.Name).Select(t => t.ToStringValue())
            .Or(Token.EqualTo(FilterToken.BracketedName).Select(t => t.Span.Skip(1).First(t.Span.Length - 2).ToStringValue()));

    private static readonly TokenListParser<FilterToken, string> String =
        Token.EqualTo(FilterToken.String).Apply(QuotedString.SqlStyle);

    private static readonly TokenListParser<FilterToken, FilterValue> Literal =
        String.Select(FilterValue.Of)
            .Or(Token.EqualTo(FilterToken.Number).Select(t => FilterValue.Of(double.Parse(t.ToStringValue(), NumberStyles.Float, CultureInfo.InvariantCulture))))
            .Or(Token.EqualTo(FilterToken.True).Value(FilterValue.Of(true)))
            .Or(Token.EqualTo(FilterToken.False).Value(FilterValue.Of(false)));

    private static readonly TokenListParser<FilterToken, Operand> Operand =
        Name.Select(n => (Operand)new NameOperand(n)).Or(Literal.Select(v => (Operand)new Literal(v)));

    private static readonly TokenListParser<FilterToken, Comparison> CompareOperator =
        Token.EqualTo(FilterToken.Equal).Value(Comparison.Equal)
            .Or(Token.EqualTo(FilterToken.NotEqual).Value(Comparison.NotEqual))
            .Or(Token.EqualTo(FilterToken.Less).Value(Comparison.Less))
            .Or(Token.EqualTo(FilterToken.LessOrEqual).Value(Comparison.LessOrEqual))
            .Or(Token.EqualTo(FilterToken.Greater).Value(Comparison.Greater))
            .Or(Token.EqualTo(FilterToken.GreaterOrEqual).Value(Comparison.GreaterOrEqual));

    /// <summary>The pattern as written (checked when the tree is built, so an error can point into it).</summary>
    private static readonly TokenListParser<FilterToken, PatternSyntax> Pattern =
        from pattern in Token.EqualTo(FilterToken.String)
        from escape in Token.EqualTo(FilterToken.Escape).IgnoreThen(Token.EqualTo(FilterToken.String)).OptionalOrDefault()
        select new PatternSyntax(pattern, escape.HasValue ? escape : null);

    private static readonly TokenListParser<FilterToken, IReadOnlyList<FilterValue>> Candidates =
        from open in Token.EqualTo(FilterToken.LeftParen)
        from values in Literal.AtLeastOnceDelimitedBy(Token.EqualTo(FilterToken.Comma))
        from close in Token.EqualTo(FilterToken.RightParen)
        select (IReadOnlyList<FilterValue>)values;

    private static TokenListParser<FilterToken, Func<Operand, object>> Tail(bool negated) =>
        Token.EqualTo(FilterToken.Like).IgnoreThen(Pattern).Select(p => (Func<Operand, object>)(o => new LikeSyntax(o, p, negated)))
            .Or(Token.EqualTo(FilterToken.In).IgnoreThen(Candidates).Select(c => (Func<Operand, object>)(o => new InNode(o, c, negated))));

    private static readonly TokenListParser<FilterToken, Func<Operand, object>> PredicateTail =
        CompareOperator.Then(op => Operand.Select(right => (Func<Operand, object>)(left => new CompareNode(left, op, right))))
            .Or(from @is in Token.EqualTo(FilterToken.Is)
                from not in Token.EqualTo(FilterToken.Not).Value(true).OptionalOrDefault()
                from @null in Token.EqualTo(FilterToken.Null)
                select (Func<Operand, object>)(o => new IsNullNode(o, not)))
            .Or(Tail(negated: false))
            .Or(Token.EqualTo(FilterToken.Not).IgnoreThen(Tail(negated: true)));

    private static readonly TokenListParser<FilterToken, object> Predicate =
        from left in Operand
        from tail in PredicateTail
        select tail(left);

    private static readonly TokenListParser<FilterToken, object> Primary =
        (from open in Token.EqualTo(FilterToken.LeftParen)
         from inner in Parse.Ref(() => Or!)
         from close in Token.EqualTo(FilterToken.RightParen)
         select inner)
        .Or(from exists in Token.EqualTo(FilterToken.Exists)
            from open in Token.EqualTo(FilterToken.LeftParen)
            from name in Name
            from close in Token.EqualTo(FilterToken.RightParen)
            select (object)new ExistsNode(name))
        .Or(Predicate);

    private static readonly TokenListParser<FilterToken, object> Unary =
        (from not in Token.EqualTo(FilterToken.Not)
         from inner in Parse.Ref(() => Unary!)
         select (object)new NotSyntax(inner))
        .Or(Primary);

    private static readonly TokenListParser<FilterToken, object> And =
        Parse.Chain(Token.EqualTo(FilterToken.And), Unary, (_, left, right) => new AndSyntax(left, right));

    private static readonly TokenListParser<FilterToken, object> Or =
        Parse.Chain(Token.EqualTo(FilterToken.Or), And, (_, left, right) => new OrSyntax(left, right));

    private static readonly TokenListParser<FilterToken, object> Filter = Or.AtEnd();

    /// <summary>Parentheses and NOTs nest at most this deep: the tree is walked by recursion.</summary>
    public const int MaxNesting = 32;

    /// <summary>The tree of <paramref name="text"/>, or the first error with its place.</summary>
    public static FilterNode? TryParse(string text, out FilterError? error)
    {
        var tokens = FilterTokenizer.Instance.TryTokenize(text);
        if (!tokens.HasValue)
        {
            error = new FilterError(tokens.ErrorPosition.Column, tokens.FormatErrorMessageFragment());
            return null;
        }

        if (TooDeep(tokens.Value) is { } deep)
        {
            error = new FilterError(deep.Column, $"parentheses and NOT nest more than {MaxNesting} deep");
            return null;
        }

        var parsed = Filter.TryParse(tokens.Value);
        if (!parsed.HasValue)
        {
            error = new FilterError(parsed.ErrorPosition.HasValue ? parsed.ErrorPosition.Column : text.Length + 1,
                parsed.FormatErrorMessageFragment());
            return null;
        }

        return Build(parsed.Value, out error);
    }

    private static Position? TooDeep(TokenList<FilterToken> tokens)
    {
        int depth = 0, nots = 0;
        foreach (var token in tokens)
        {
            switch (token.Kind)
            {
                case FilterToken.LeftParen:
                    depth++;
                    break;
                case FilterToken.RightParen:
                    depth--;
                    break;
                case FilterToken.Not:
                    nots++;
                    break;
            }

            if (depth + nots > MaxNesting)
            {
                return token.Position;
            }
        }

        return null;
    }

    /// <summary>Turns the parsed syntax into the evaluated tree, checking what the grammar alone cannot (a LIKE pattern's escapes).</summary>
    private static FilterNode? Build(object syntax, out FilterError? error)
    {
        error = null;
        switch (syntax)
        {
            case FilterNode node:
                return node;
            case NotSyntax not:
                return Build(not.Inner, out error) is { } inner ? new NotNode(inner) : null;
            case AndSyntax and:
                return Build(and.Left, out error) is { } l && Build(and.Right, out error) is { } r ? new AndNode(l, r) : null;
            case OrSyntax or:
                return Build(or.Left, out error) is { } left && Build(or.Right, out error) is { } right ? new OrNode(left, right) : null;
            case LikeSyntax like:
                var patternText = QuotedString.SqlStyle.Parse(like.Pattern.Pattern.ToStringValue());
                char? escape = null;
                if (like.Pattern.Escape is { } escapeToken)
                {
                    var escapeText = QuotedString.SqlStyle.Parse(escapeToken.ToStringValue());
                    if (escapeText.Length != 1)
                    {
                        error = new FilterError(escapeToken.Position.Column, "ESCAPE takes a string of exactly one character, such as '!'");
                        return null;
                    }

                    escape = escapeText[0];
                }

                var pattern = LikePattern.TryCreate(patternText, escape, out var message, out var offset);
                if (pattern is null)
                {
                    // The offset is within the string's value; the column, within the filter (past the opening quote).
                    error = new FilterError(like.Pattern.Pattern.Position.Column + 1 + offset, message!);
                    return null;
                }

                return new LikeNode(like.Value, pattern, like.Negated);
            default:
                throw new InvalidOperationException($"Unexpected filter syntax {syntax.GetType().Name}.");
        }
    }

    private sealed record PatternSyntax(Token<FilterToken> Pattern, Token<FilterToken>? Escape);

    private sealed record LikeSyntax(Operand Value, PatternSyntax Pattern, bool Negated);

    private sealed record NotSyntax(object Inner);

    private sealed record AndSyntax(object Left, object Right);

    private sealed record OrSyntax(object Left, object Right);
}
