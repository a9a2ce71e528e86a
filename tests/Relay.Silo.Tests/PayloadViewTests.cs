using Relay.Silo.Portal;

namespace Relay.Silo.Tests;

/// <summary>How the portal shows a payload: pretty when it can, raw text when it cannot, never resolving anything.</summary>
public sealed class PayloadViewTests
{
    [Fact]
    public void Json_is_pretty_printed_keeping_its_characters()
    {
        var view = PayloadView.Of(Encoding.UTF8.GetBytes("""{"a":1,"b":["<x>","é"]}"""), "application/json");

        Assert.Equal("JSON", view.Format);
        Assert.Equal("{\n  \"a\": 1,\n  \"b\": [\n    \"<x>\",\n    \"é\"\n  ]\n}", view.Text);
        Assert.Equal("""{"a":1,"b":["<x>","é"]}""", view.EditableText);
    }

    [Fact]
    public void Xml_is_pretty_printed()
    {
        var view = PayloadView.Of(Encoding.UTF8.GetBytes("<order><id>7</id><lines><line>a</line></lines></order>"), "text/xml");

        Assert.Equal("XML", view.Format);
        Assert.Equal("<order>\n  <id>7</id>\n  <lines>\n    <line>a</line>\n  </lines>\n</order>", view.Text.Replace("\r\n", "\n", StringComparison.Ordinal));
    }

    [Fact]
    public void Xml_with_a_dtd_is_not_parsed_and_its_entities_are_never_resolved()
    {
        const string hostile = """<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>""";

        var view = PayloadView.Of(Encoding.UTF8.GetBytes(hostile), "application/xml");

        Assert.Equal("text", view.Format);
        Assert.Equal(hostile, view.Text);
        Assert.DoesNotContain("root:", view.Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("application/json", "{\"a\": ")]
    [InlineData("text/xml", "<a><b></a>")]
    [InlineData("text/html", "<img src=x onerror=alert(1)>")]
    public void What_does_not_parse_is_shown_as_it_was_sent(string contentType, string payload)
    {
        var view = PayloadView.Of(Encoding.UTF8.GetBytes(payload), contentType);

        Assert.Equal("text", view.Format);
        Assert.Equal(payload, view.Text);
    }

    [Fact]
    public void Bytes_that_are_not_utf8_are_shown_as_base64_and_cannot_be_edited()
    {
        var view = PayloadView.Of([0xff, 0xfe, 0x00, 0x41], "application/octet-stream");

        Assert.Equal("binary, base64", view.Format);
        Assert.Equal("//4AQQ==", view.Text);
        Assert.Null(view.EditableText);
    }
}
