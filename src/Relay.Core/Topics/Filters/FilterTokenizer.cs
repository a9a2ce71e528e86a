using Superpower;
using Superpower.Display;
using Superpower.Model;
using Superpower.Parsers;

namespace Relay.Core.Topics.Filters;

internal enum FilterToken
{
    [Token(Example = "(")] LeftParen,
    [Token(Example = ")")] RightParen,
    [Token(Example = ",")] Comma,
    [Token(Example = "=")] Equal,
    [Token(Example = "<>")] NotEqual,
    [Token(Example = "<")] Less,
    [Token(Example = "<=")] LessOrEqual,
    [Token(Example = ">")] Greater,
    [Token(Example = ">=")] GreaterOrEqual,
    [Token(Description = "string")] String,
    [Token(Description = "number")] Number,
    [Token(Description = "name")] Name,
    [Token(Description = "[name]")] BracketedName,
    [Token(Category = "keyword", Example = "AND")] And,
    [Token(Category = "keyword", Example = "OR")] Or,
    [Token(Category = "keyword", Example = "NOT")] Not,
    [Token(Category = "keyword", Example = "LIKE")] Like,
    [Token(Category = "keyword", Example = "ESCAPE")] Escape,
    [Token(Category = "keyword", Example = "IN")] In,
    [Token(Category = "keyword", Example = "IS")] Is,
    [Token(Category = "keyword", Example = "NULL")] Null,
    [Token(Category = "keyword", Example = "EXISTS")] Exists,
    [Token(Category = "keyword", Example = "TRUE")] True,
    [Token(Category = "keyword", Example = "FALSE")] False,
}

/// <summary>
/// Cuts a filter into tokens. Keywords are names of a reserved set, in any case (<c>and</c>, <c>AND</c>); a name
/// starts with a letter or <c>_</c> and goes on with letters, digits, <c>_</c>, <c>-</c> and <c>.</c> (so a header
/// such as <c>X-Tenant</c> needs no quoting); any other name, or one that is a keyword, is written in brackets:
/// <c>[order id]</c>, <c>[in]</c>.
/// </summary>
internal sealed class FilterTokenizer : Tokenizer<FilterToken>
{
    public static readonly FilterTokenizer Instance = new();

    private static readonly Dictionary<string, FilterToken> Keywords = new(StringComparer.OrdinalIgnoreCase)
    {
        ["AND"] = FilterToken.And, ["OR"] = FilterToken.Or, ["NOT"] = FilterToken.Not, ["LIKE"] = FilterToken.Like,
        ["ESCAPE"] = FilterToken.Escape, ["IN"] = FilterToken.In, ["IS"] = FilterToken.Is, ["NULL"] = FilterToken.Null,
        ["EXISTS"] = FilterToken.Exists, ["TRUE"] = FilterToken.True, ["FALSE"] = FilterToken.False,
    };

    protected override IEnumerable<Result<FilterToken>> Tokenize(TextSpan span)
    {
        var next = SkipWhiteSpace(span);
        while (next.HasValue)
        {
            var start = next.Location;
            var c = next.Value;
            var after = next.Remainder.ConsumeChar();
            switch (c)
            {
                case '(':
                    yield return Result.Value(FilterToken.LeftParen, start, next.Remainder);
                    break;
                case ')':
                    yield return Result.Value(FilterToken.RightParen, start, next.Remainder);
                    break;
                case ',':
                    yield return Result.Value(FilterToken.Comma, start, next.Remainder);
                    break;
                case '=':
                    yield return Result.Value(FilterToken.Equal, start, next.Remainder);
                    break;
                case '<' when after.HasValue && after.Value == '=':
                    yield return Result.Value(FilterToken.LessOrEqual, start, after.Remainder);
                    next = after;
                    break;
                case '<' when after.HasValue && after.Value == '>':
                    yield return Result.Value(FilterToken.NotEqual, start, after.Remainder);
                    next = after;
                    break;
                case '<':
                    yield return Result.Value(FilterToken.Less, start, next.Remainder);
                    break;
                case '>' when after.HasValue && after.Value == '=':
                    yield return Result.Value(FilterToken.GreaterOrEqual, start, after.Remainder);
                    next = after;
                    break;
                case '>':
                    yield return Result.Value(FilterToken.Greater, start, next.Remainder);
                    break;
                case '!' when after.HasValue && after.Value == '=':
                    yield return Result.Value(FilterToken.NotEqual, start, after.Remainder);
                    next = after;
                    break;
                case '!':
                    yield return Result.Empty<FilterToken>(start, "'!' stands only in '!=' (or write '<>')");
                    yield break;
                case '\'':
                {
                    var text = QuotedString.SqlStyle(start);
                    if (!text.HasValue)
                    {
                        yield return Result.Empty<FilterToken>(start, "a string is not closed: end it with ' (a ' inside a string is written '')");
                        yield break;
                    }

                    yield return Result.Value(FilterToken.String, start, text.Remainder);
                    next = SkipWhiteSpace(text.Remainder);
                    continue;
                }

                case '[':
                {
                    var end = next.Remainder.ConsumeChar();
                    while (end.HasValue && end.Value != ']')
                    {
                        end = end.Remainder.ConsumeChar();
                    }

                    if (!end.HasValue)
                    {
                        yield return Result.Empty<FilterToken>(start, "a [name] is not closed: end it with ]");
                        yield break;
                    }

                    if (end.Location.Position.Absolute == start.Position.Absolute + 1)
                    {
                        yield return Result.Empty<FilterToken>(start, "a name in brackets is empty: write [name]");
                        yield break;
                    }

                    yield return Result.Value(FilterToken.BracketedName, start, end.Remainder);
                    next = SkipWhiteSpace(end.Remainder);
                    continue;
                }

                default:
                    if (char.IsDigit(c) || (c is '-' or '+' && after.HasValue && char.IsDigit(after.Value)))
                    {
                        var number = Numerics.Decimal(start);
                        if (!number.HasValue)
                        {
                            yield return Result.Empty<FilterToken>(start, "a number is written as 100, -2 or 0.5");
                            yield break;
                        }

                        var end = number.Remainder.ConsumeChar();
                        if (end.HasValue && (char.IsLetter(end.Value) || end.Value == '_'))
                        {
                            yield return Result.Empty<FilterToken>(end.Location, "a name cannot start with a digit: write it in brackets, [1st]");
                            yield break;
                        }

                        yield return Result.Value(FilterToken.Number, start, number.Remainder);
                        next = SkipWhiteSpace(number.Remainder);
                        continue;
                    }

                    if (char.IsLetter(c) || c == '_')
                    {
                        var end = next.Remainder.ConsumeChar();
                        while (end.HasValue && (char.IsLetterOrDigit(end.Value) || end.Value is '_' or '-' or '.'))
                        {
                            end = end.Remainder.ConsumeChar();
                        }

                        var word = start.Until(end.Location);
                        yield return Result.Value(Keywords.TryGetValue(word.ToStringValue(), out var keyword) ? keyword : FilterToken.Name,
                            start, end.Location);
                        next = SkipWhiteSpace(end.Location);
                        continue;
                    }

                    yield return Result.Empty<FilterToken>(start, $"unexpected character '{c}'");
                    yield break;
            }

            next = SkipWhiteSpace(next.Remainder);
        }
    }
}
