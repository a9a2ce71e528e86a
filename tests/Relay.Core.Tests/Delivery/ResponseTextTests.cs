using Relay.Core.Delivery;

namespace Relay.Core.Tests.Delivery;

public class ResponseTextTests
{
    /// <summary>Bytes with what matters often: NUL, backslash, 'x', hex digits, pieces of multi-byte and invalid UTF-8.</summary>
    private static readonly Gen<byte[]> Bytes = Gen.OneOf(
            Gen.Choose(0, 255),
            Gen.Elements(0, '\\', 'x', 'X', '0', 'F', 'a', 0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x98, 0x80, 0xED, 0xA0,
                0xC0, 0xFF, 0xF4, 0x90))
        .Select(i => (byte)i)
        .ArrayOf();

    /// <summary>Text made of any Unicode scalar values (no lone surrogates), backslashes and x's among them.</summary>
    private static readonly Gen<string> ValidText = Gen.OneOf(
            Gen.Choose(1, 0x10FFFF).Where(c => c is < 0xD800 or > 0xDFFF),
            Gen.Elements(0, '\\', 'x', 'é', '€', 0x1F600))
        .Select(c => new Rune(c).ToString())
        .ArrayOf()
        .Select(string.Concat);

    [Property(MaxTest = 5000)]
    public Property Any_bytes_come_back_from_their_text() =>
        Prop.ForAll(Bytes.ToArbitrary(), bytes => ResponseText.ToBytes(ResponseText.FromBytes(bytes)).SequenceEqual(bytes));

    [Property(MaxTest = 5000)]
    public Property The_text_holds_no_NUL_and_no_lone_surrogate() =>
        Prop.ForAll(Bytes.ToArbitrary(), bytes =>
        {
            var text = ResponseText.FromBytes(bytes);
            // A strict encoder throws on a lone surrogate.
            var strict = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
            return !text.Contains('\0') && strict.GetByteCount(text) >= 0;
        });

    [Property(MaxTest = 5000)]
    public Property Valid_UTF8_without_NUL_or_a_backslash_before_x_stays_as_it_is() =>
        Prop.ForAll(ValidText.Where(t => !t.Contains('\0') && !t.Contains("\\x", StringComparison.Ordinal)).ToArbitrary(),
            text => ResponseText.FromBytes(Encoding.UTF8.GetBytes(text)) == text);

    [Property(MaxTest = 5000)]
    public Property Text_from_dotnet_strings_is_storable_and_reads_back_as_their_UTF8() =>
        Prop.ForAll(ValidText.ToArbitrary(), text =>
        {
            var stored = ResponseText.FromText(text);
            return !stored.Contains('\0') && ResponseText.ToBytes(stored).SequenceEqual(Encoding.UTF8.GetBytes(text));
        });

    [Theory]
    [InlineData(new byte[] { (byte)'a', 0, (byte)'b' }, "a\\x00b")]
    [InlineData(new byte[] { 0xFF, (byte)'o', (byte)'k' }, "\\xFFok")]
    [InlineData(new byte[] { (byte)'C', (byte)':', (byte)'\\', (byte)'x', (byte)'1' }, "C:\\x5Cx1")]
    [InlineData(new byte[] { (byte)'\\', (byte)'n', (byte)'\\' }, "\\n\\")]
    [InlineData(new byte[] { (byte)'\\', 0 }, "\\\\x00")]
    [InlineData(new byte[] { 0xC3, 0xA9, 0xC3 }, "é\\xC3")] // the last character cut short by the size limit
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 }, "\\xED\\xA0\\x80")] // a surrogate written as UTF-8 is not UTF-8
    [InlineData(new byte[] { 0xC0, 0xAF }, "\\xC0\\xAF")] // overlong
    [InlineData(new byte[] { }, "")]
    public void Escapes_exactly_NUL_invalid_bytes_and_a_backslash_before_x(byte[] bytes, string expected)
    {
        Assert.Equal(expected, ResponseText.FromBytes(bytes));
        Assert.Equal(bytes, ResponseText.ToBytes(expected));
    }

    [Fact]
    public void Header_values_read_from_the_wire_as_Latin1_read_as_UTF8()
    {
        var wire = Encoding.Latin1.GetString([.. Encoding.UTF8.GetBytes("/tést"), 0, 0xFF]);
        Assert.Equal("/tést\\x00\\xFF", ResponseText.FromWireText(wire));
        Assert.Equal("plain", ResponseText.FromWireText("plain"));
    }

    [Fact]
    public void Dotnet_text_keeps_its_characters_and_escapes_NUL()
    {
        Assert.Equal("250 ok é", ResponseText.FromText("250 ok é"));
        Assert.Equal("550 a\\x00b \\x5Cx", ResponseText.FromText("550 a\0b \\x"));
        Assert.Equal("lone \uFFFD", ResponseText.FromText("lone \uD800"));
    }
}
