namespace Relay.Core.Tests.Topics;

public class SubscriptionFilterTests
{
    private static MessageProperties Message(string? payload = null, string? correlationId = null, string? contentType = "application/json",
        params (string Name, string Value)[] headers) =>
        new(headers.ToDictionary(h => h.Name, h => h.Value, StringComparer.OrdinalIgnoreCase),
            Encoding.UTF8.GetBytes(payload ?? ""), contentType, correlationId);

    private static bool Matches(string filter, MessageProperties message) => SubscriptionFilter.Compile(filter).Matches(message);

    private static FilterError ErrorOf(string filter)
    {
        Assert.False(SubscriptionFilter.TryCompile(filter, out var compiled, out var error), $"'{filter}' compiled");
        Assert.Null(compiled);
        return error!;
    }

    [Theory]
    [InlineData("region = 'eu' AND amount > 100", true)]
    [InlineData("region = 'eu' AND amount > 200", false)]
    [InlineData("region = 'us' OR amount >= 200", true)]
    [InlineData("region <> 'eu'", false)]
    [InlineData("region != 'us'", true)]
    [InlineData("amount < 200.5 AND amount <= 200 AND amount > -1", true)]
    [InlineData("urgent = true", true)]
    [InlineData("urgent = FALSE", false)]
    [InlineData("urgent <> false", true)]
    [InlineData("EXISTS(customer)", true)]
    [InlineData("exists ( nothing )", false)]
    [InlineData("customer LIKE 'c-1%'", true)]
    [InlineData("customer LIKE 'c-1_'", false)]
    [InlineData("customer LIKE 'c-1__'", true)]
    [InlineData("customer NOT LIKE 'c-2%'", true)]
    [InlineData("kind IN ('a', 'b')", true)]
    [InlineData("kind IN ('c')", false)]
    [InlineData("kind NOT IN ('c', 'd')", true)]
    [InlineData("amount IN (100, 200, 300)", true)]
    [InlineData("nothing IS NULL", true)]
    [InlineData("note IS NULL", true)]
    [InlineData("note IS NOT NULL", false)]
    [InlineData("region IS NOT NULL", true)]
    [InlineData("NOT region = 'us'", true)]
    [InlineData("not (region = 'eu' and amount > 100)", false)]
    [InlineData("region = 'us' OR region = 'eu' AND amount > 100", true)]
    [InlineData("(region = 'us' OR region = 'eu') AND amount > 1000", false)]
    [InlineData("[order id] = 'o-1'", true)]
    [InlineData("nested IS NOT NULL AND EXISTS(list)", true)]
    public void Evaluates_the_operators_on_JSON_fields(string filter, bool expected)
    {
        var message = Message("""
            {"region": "eu", "amount": 200, "urgent": true, "customer": "c-123", "kind": "a", "note": null,
             "order id": "o-1", "nested": {"region": "us"}, "list": [1, 2]}
            """);
        Assert.Equal(expected, Matches(filter, message));
    }

    [Fact]
    public void A_header_wins_over_a_JSON_field_of_the_same_name_and_is_found_whatever_its_case()
    {
        var message = Message("""{"region": "us"}""", headers: ("Region", "eu"));
        Assert.True(Matches("region = 'eu'", message));
        Assert.True(Matches("REGION = 'eu'", message));
        Assert.Equal(0, message.PayloadReads);
    }

    [Fact]
    public void A_header_compared_with_a_number_or_a_boolean_is_read_as_one()
    {
        var message = Message(headers: [("amount", "200"), ("urgent", "True"), ("size", "large"), ("X-Tenant", "acme")]);
        Assert.True(Matches("amount > 100", message));
        Assert.True(Matches("amount = 200.0", message));
        Assert.True(Matches("urgent = true", message));
        Assert.True(Matches("amount = '200'", message)); // and as text, compared with text
        Assert.False(Matches("size > 100", message));
        Assert.False(Matches("NOT size > 100", message)); // not a number: unknown, so its NOT does not match either
        Assert.True(Matches("X-Tenant = 'acme'", message)); // a header name with '-' needs no brackets
    }

    [Fact]
    public void A_string_compared_with_a_number_matches_nothing_and_is_no_error()
    {
        var message = Message("""{"amount": "200", "count": 3}""");
        Assert.False(Matches("amount > 100", message));
        Assert.False(Matches("amount = 200", message));
        Assert.False(Matches("NOT amount = 200", message));
        Assert.False(Matches("amount <> 200", message));
        Assert.False(Matches("count = '3'", message));
        Assert.False(Matches("count LIKE '3'", message)); // LIKE is for strings
        Assert.True(Matches("amount = '200'", message));
    }

    [Fact]
    public void A_missing_name_makes_a_comparison_unknown_so_that_neither_it_nor_its_NOT_matches()
    {
        var message = Message("""{"region": "eu"}""");
        Assert.False(Matches("amount > 100", message));
        Assert.False(Matches("NOT amount > 100", message));
        Assert.False(Matches("amount NOT IN (1, 2)", message));
        Assert.False(Matches("customer NOT LIKE 'c%'", message));
        // Unknown OR true is true; unknown AND false is false, so its NOT is true.
        Assert.True(Matches("amount > 100 OR region = 'eu'", message));
        Assert.True(Matches("NOT (amount > 100 AND region = 'us')", message));
    }

    [Fact]
    public void CorrelationId_and_contentType_are_found_when_no_header_or_field_has_the_name()
    {
        var message = Message("""{"other": 1}""", correlationId: "req-9", contentType: "application/json");
        Assert.True(Matches("correlationId = 'req-9' AND contentType LIKE 'application/%'", message));
        Assert.True(Matches("CorrelationID = 'req-9'", message));
        Assert.False(Matches("correlationId = 'req-9'", Message("""{"correlationId": "mine"}""", correlationId: "req-9")));
        Assert.True(Matches("correlationId IS NULL", Message("{}")));
    }

    [Theory]
    [InlineData("not json at all")]
    [InlineData("[1, 2, 3]")]
    [InlineData("{\"region\": \"eu\"")]
    [InlineData("{\"region\": \"eu\"} trailing")]
    [InlineData("\"region\"")]
    public void A_payload_that_is_not_a_JSON_object_has_no_fields(string payload)
    {
        var message = Message(payload, contentType: "text/plain");
        Assert.False(Matches("region = 'eu'", message));
        Assert.True(Matches("region IS NULL", message));
        Assert.Equal(1, message.PayloadReads);
    }

    [Fact]
    public void A_JSON_payload_is_read_whatever_its_declared_content_type_and_with_a_BOM()
    {
        Assert.True(Matches("region = 'eu'", Message("\uFEFF{\"region\": \"eu\"}", contentType: "text/plain; charset=utf-8")));
    }

    [Theory]
    [InlineData("a LIKE 'x!%y' ESCAPE '!'", "x%y", true)]
    [InlineData("a LIKE 'x!%y' ESCAPE '!'", "xzy", false)]
    [InlineData("a LIKE 'x!_%' ESCAPE '!'", "x_abc", true)]
    [InlineData("a LIKE 'x!_%' ESCAPE '!'", "xyabc", false)]
    [InlineData("a LIKE 'x!!' ESCAPE '!'", "x!", true)]
    [InlineData("a LIKE '%'", "", true)]
    [InlineData("a LIKE ''", "", true)]
    [InlineData("a LIKE '%b%b%'", "abcabc", true)]
    [InlineData("a LIKE '%b%b%'", "abcacc", false)]
    [InlineData("a LIKE 'it''s%'", "it's here", true)]
    [InlineData("a LIKE 'ABC'", "abc", false)]
    public void LIKE_matches_percent_underscore_and_escapes(string filter, string value, bool expected) =>
        Assert.Equal(expected, Matches(filter, Message(headers: ("a", value))));

    [Fact]
    public void Keywords_are_case_insensitive_and_bracketed_names_may_be_keywords()
    {
        var message = Message("""{"in": "x", "and": 1}""");
        Assert.True(Matches("[in] In ('x') aNd [and] = 1 Or FaLsE = TrUe", message));
    }

    [Theory]
    [InlineData("region = 'eu' AND", 18, "unexpected end of input")]
    [InlineData("region = 'eu' AND amount >", 27, "unexpected end of input")]
    [InlineData("region = 'eu", 10, "a string is not closed")]
    [InlineData("region == 'eu'", 9, "unexpected `=`")]
    [InlineData("region = 'eu' amount > 1", 15, "unexpected name `amount`")]
    [InlineData("(region = 'eu'", 15, "unexpected end of input, expected `)`")]
    [InlineData("region = 'eu')", 14, "unexpected `)`")]
    [InlineData("region ! 'eu'", 8, "'!' stands only in '!='")]
    [InlineData("region = #", 10, "unexpected character '#'")]
    [InlineData("kind IN ()", 10, "unexpected `)`")]
    [InlineData("[unclosed = 1", 1, "a [name] is not closed")]
    [InlineData("a LIKE 'x!y' ESCAPE '!'", 10, "the escape character '!' must be followed by %, _ or itself")]
    [InlineData("a LIKE 'x' ESCAPE '!!'", 19, "ESCAPE takes a string of exactly one character")]
    [InlineData("a LIKE b", 8, "unexpected name `b`, expected string")]
    [InlineData("EXISTS('a')", 8, "unexpected string `'a'`")]
    [InlineData("a = NULL", 5, "unexpected keyword `NULL`")]
    [InlineData("1abc = 1", 2, "a name cannot start with a digit")]
    [InlineData("   ", 1, "the filter is empty")]
    public void A_malformed_filter_is_refused_with_its_column_and_what_is_wrong(string filter, int column, string message)
    {
        var error = ErrorOf(filter);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Equal(column, error.Column);
        Assert.StartsWith($"at column {column}: ", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Nesting_is_bounded_so_that_a_filter_cannot_exhaust_the_stack()
    {
        var deep = new string('(', 40) + "a = 1" + new string(')', 40);
        Assert.Contains("nest more than 32 deep", ErrorOf(deep).Message, StringComparison.Ordinal);
        Assert.True(SubscriptionFilter.TryCompile(new string('(', 30) + "a = 1" + new string(')', 30), out _, out _));
        Assert.Contains("at most 4096 characters", ErrorOf("a = '" + new string('x', 5000) + "'").Message, StringComparison.Ordinal);
    }

    // Properties: the logic against C#'s own operators, LIKE against a reference matcher, numbers against C#'s order,
    // and the parser against anything at all.

    [Property(MaxTest = 300)]
    public bool AND_binds_tighter_than_OR_and_NOT_tighter_than_AND(bool a, bool b, bool c)
    {
        var message = Message(headers: [("a", a ? "true" : "false"), ("b", b ? "true" : "false"), ("c", c ? "true" : "false")]);
        return Matches("a = true OR b = true AND c = true", message) == (a || (b && c))
               && Matches("NOT a = true AND b = true", message) == (!a && b)
               && Matches("NOT (a = true AND b = true) OR c = true", message) == (!(a && b) || c)
               && Matches("a = true AND NOT b = true OR NOT c = true", message) == ((a && !b) || !c);
    }

    [Property(MaxTest = 500)]
    public bool Numbers_compare_as_numbers_in_headers_and_in_JSON(int value, int bound)
    {
        var header = Message(headers: ("n", value.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var json = Message($$"""{"n": {{value}}}""");
        return new[] { header, json }.All(m =>
            Matches($"n > {bound}", m) == (value > bound)
            && Matches($"n <= {bound}", m) == (value <= bound)
            && Matches($"n = {bound}", m) == (value == bound)
            && Matches($"n <> {bound}", m) == (value != bound));
    }

    // Short: the reference matcher is exponential in the number of '%'.
    private static Gen<string> Short(params char[] alphabet) =>
        from length in Gen.Choose(0, 10)
        from chars in Gen.Elements(alphabet).ArrayOf(length)
        select new string(chars);

    [Property(MaxTest = 1000)]
    public Property LIKE_agrees_with_a_reference_matcher() =>
        Prop.ForAll(Short('a', 'b', '%', '_', '!').ToArbitrary(), Short('a', 'b').ToArbitrary(), (pattern, text) =>
        {
            var escaped = pattern.Replace("'", "''", StringComparison.Ordinal);
            // Without ESCAPE, '!' is an ordinary character.
            return Matches($"t LIKE '{escaped}'", Message(headers: ("t", text))) == Reference(pattern, 0, text, 0);
        });

    [Property(MaxTest = 500)]
    public bool A_literal_pattern_with_every_wildcard_escaped_matches_only_itself(NonNull<string> raw, NonNull<string> other)
    {
        var text = new string(raw.Get.Where(c => !char.IsControl(c) && !char.IsSurrogate(c)).ToArray());
        var pattern = text.Replace("!", "!!", StringComparison.Ordinal).Replace("%", "!%", StringComparison.Ordinal)
            .Replace("_", "!_", StringComparison.Ordinal).Replace("'", "''", StringComparison.Ordinal);
        var filter = $"t LIKE '{pattern}' ESCAPE '!'";
        return Matches(filter, Message(headers: ("t", text)))
               && Matches(filter, Message(headers: ("t", other.Get))) == (other.Get == text);
    }

    [Property(MaxTest = 2000)]
    public bool Any_text_compiles_or_is_refused_with_a_column_within_it(string text)
    {
        text ??= "";
        if (SubscriptionFilter.TryCompile(text, out var filter, out var error))
        {
            return filter is not null && error is null;
        }

        return error!.Column >= 1 && error.Column <= text.Length + 1 && error.Message.Length > 0;
    }

    private static readonly Gen<string> FilterWords = Gen.Elements(
        "a", "b", "=", "<>", "<", ">=", "'x'", "1", "-2.5", "AND", "OR", "NOT", "(", ")", "LIKE", "IN", "IS", "NULL",
        "EXISTS", "TRUE", ",", "ESCAPE", "[c d]");

    [Property(MaxTest = 2000)]
    public Property Token_soup_never_throws_and_evaluates_without_error() =>
        Prop.ForAll(FilterWords.ListOf().Select(w => string.Join(' ', w)).ToArbitrary(), text =>
        {
            if (SubscriptionFilter.TryCompile(text, out var filter, out var error))
            {
                filter!.Matches(Message("""{"a": 1, "b": "x"}""", headers: ("c d", "2")));
                return true;
            }

            return error!.Column >= 1 && error.Column <= text.Length + 1;
        });

    /// <summary>LIKE by its definition, recursively: slow and obviously right.</summary>
    private static bool Reference(string pattern, int p, string text, int t)
    {
        if (p == pattern.Length)
        {
            return t == text.Length;
        }

        return pattern[p] switch
        {
            '%' => Reference(pattern, p + 1, text, t) || (t < text.Length && Reference(pattern, p, text, t + 1)),
            '_' => t < text.Length && Reference(pattern, p + 1, text, t + 1),
            var c => t < text.Length && text[t] == c && Reference(pattern, p + 1, text, t + 1),
        };
    }
}
