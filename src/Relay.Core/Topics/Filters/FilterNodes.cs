namespace Relay.Core.Topics.Filters;

/// <summary>A filter's syntax tree, evaluated directly: each node is a small pure function of the message's properties.</summary>
internal abstract record FilterNode
{
    public abstract Truth Evaluate(MessageProperties message);
}

/// <summary>An operand: a name looked up in the message, or a literal.</summary>
internal abstract record Operand
{
    public abstract FilterValue ValueIn(MessageProperties message);
}

internal sealed record NameOperand(string Name) : Operand
{
    public override FilterValue ValueIn(MessageProperties message) => message.Resolve(Name);
}

internal sealed record Literal(FilterValue Value) : Operand
{
    public override FilterValue ValueIn(MessageProperties message) => Value;
}

internal enum Comparison
{
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

internal sealed record AndNode(FilterNode Left, FilterNode Right) : FilterNode
{
    public override Truth Evaluate(MessageProperties message)
    {
        var left = Left.Evaluate(message);
        if (left == Truth.False)
        {
            return Truth.False;
        }

        var right = Right.Evaluate(message);
        return right == Truth.False ? Truth.False : left == Truth.True && right == Truth.True ? Truth.True : Truth.Unknown;
    }
}

internal sealed record OrNode(FilterNode Left, FilterNode Right) : FilterNode
{
    public override Truth Evaluate(MessageProperties message)
    {
        var left = Left.Evaluate(message);
        if (left == Truth.True)
        {
            return Truth.True;
        }

        var right = Right.Evaluate(message);
        return right == Truth.True ? Truth.True : left == Truth.False && right == Truth.False ? Truth.False : Truth.Unknown;
    }
}

internal sealed record NotNode(FilterNode Inner) : FilterNode
{
    public override Truth Evaluate(MessageProperties message) => Not(Inner.Evaluate(message));

    public static Truth Not(Truth value) => value switch
    {
        Truth.True => Truth.False,
        Truth.False => Truth.True,
        _ => Truth.Unknown,
    };
}

internal sealed record CompareNode(Operand Left, Comparison Op, Operand Right) : FilterNode
{
    public override Truth Evaluate(MessageProperties message) => Compare(Left.ValueIn(message), Op, Right.ValueIn(message));

    /// <summary>
    /// SQL's rules, as Azure Service Bus applies them: a missing value or a JSON null makes the comparison unknown
    /// (so neither it nor its NOT matches); values of unlike types (a string and a number) are unknown too, never an
    /// error. Untyped text (a header) compared with a number or a boolean is read as one, when it is one.
    /// </summary>
    public static Truth Compare(FilterValue left, Comparison op, FilterValue right)
    {
        if (left.Kind == FilterValueKind.Text && right.Kind != FilterValueKind.Text)
        {
            left = Coerce(left, right.Kind);
        }
        else if (right.Kind == FilterValueKind.Text && left.Kind != FilterValueKind.Text)
        {
            right = Coerce(right, left.Kind);
        }

        int order;
        if (left.IsTextual && right.IsTextual)
        {
            order = string.CompareOrdinal(left.Text, right.Text);
        }
        else if (left.Kind == FilterValueKind.Number && right.Kind == FilterValueKind.Number)
        {
            order = left.Number.CompareTo(right.Number);
        }
        else if (left.Kind == FilterValueKind.Boolean && right.Kind == FilterValueKind.Boolean)
        {
            // Booleans are equal or not; they have no order.
            return op switch
            {
                Comparison.Equal => Of(left.Boolean == right.Boolean),
                Comparison.NotEqual => Of(left.Boolean != right.Boolean),
                _ => Truth.Unknown,
            };
        }
        else
        {
            return Truth.Unknown;
        }

        return Of(op switch
        {
            Comparison.Equal => order == 0,
            Comparison.NotEqual => order != 0,
            Comparison.Less => order < 0,
            Comparison.LessOrEqual => order <= 0,
            Comparison.Greater => order > 0,
            _ => order >= 0,
        });
    }

    private static FilterValue Coerce(FilterValue text, FilterValueKind to) => to switch
    {
        FilterValueKind.Number => text.TryNumber(out var number) ? FilterValue.Of(number) : FilterValue.Other,
        FilterValueKind.Boolean => text.TryBoolean(out var boolean) ? FilterValue.Of(boolean) : FilterValue.Other,
        _ => text,
    };

    public static Truth Of(bool value) => value ? Truth.True : Truth.False;
}

internal sealed record InNode(Operand Value, IReadOnlyList<FilterValue> Candidates, bool Negated) : FilterNode
{
    public override Truth Evaluate(MessageProperties message)
    {
        var value = Value.ValueIn(message);
        var result = Truth.False;
        foreach (var candidate in Candidates)
        {
            var equal = CompareNode.Compare(value, Comparison.Equal, candidate);
            if (equal == Truth.True)
            {
                result = Truth.True;
                break;
            }

            if (equal == Truth.Unknown)
            {
                result = Truth.Unknown;
            }
        }

        return Negated ? NotNode.Not(result) : result;
    }
}

internal sealed record LikeNode(Operand Value, LikePattern Pattern, bool Negated) : FilterNode
{
    public override Truth Evaluate(MessageProperties message)
    {
        var value = Value.ValueIn(message);
        if (!value.IsTextual)
        {
            return Truth.Unknown;
        }

        return CompareNode.Of(Pattern.IsMatch(value.Text!) != Negated);
    }
}

internal sealed record IsNullNode(Operand Value, bool Negated) : FilterNode
{
    public override Truth Evaluate(MessageProperties message)
    {
        var kind = Value.ValueIn(message).Kind;
        return CompareNode.Of(kind is FilterValueKind.Missing or FilterValueKind.Null != Negated);
    }
}

internal sealed record ExistsNode(string Name) : FilterNode
{
    public override Truth Evaluate(MessageProperties message) => CompareNode.Of(message.Resolve(Name).Kind != FilterValueKind.Missing);
}
