using Relay.Adapters.Ftp;

namespace Relay.Adapters.Tests.Ftp;

public class FtpFileNameTests
{
    [Theory]
    [InlineData("order-123", "order-123")]
    [InlineData("Order_9.v2", "Order_9.v2")]
    [InlineData("a/b", "a%2Fb")]
    [InlineData("..", "%2E.")]
    [InlineData(".hidden", "%2Ehidden")]
    [InlineData("100%", "100%25")]
    [InlineData("a b:c", "a%20b%3Ac")]
    [InlineData("é", "%C3%A9")]
    [InlineData(@"..\..\etc", @"%2E.%5C..%5Cetc")]
    public void Keeps_safe_characters_and_escapes_the_rest(string id, string expected)
    {
        Assert.Equal(expected, FtpFileName.Encode(id));
    }

    [Fact]
    public void The_template_puts_the_encoded_id_in_place_of_every_id_placeholder()
    {
        Assert.Equal("in-a%2Fb-a%2Fb.xml", FtpFileName.Render("in-{id}-{id}.xml", "a/b"));
        Assert.Equal("order-1.dat", FtpFileName.Render("{id}.dat", "order-1"));
    }

    [Fact]
    public void Ids_that_differ_never_share_a_name()
    {
        string[] ids = ["a/b", "a%2Fb", "a_b", "a%2fb", ".x", "%2Ex", "x", "X"];

        Assert.Equal(ids.Length, ids.Select(FtpFileName.Encode).Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void A_long_id_is_shortened_with_a_hash_the_same_way_every_time()
    {
        var id = string.Concat(Enumerable.Repeat("é", 200));
        var other = string.Concat(Enumerable.Repeat("é", 199)) + "e";

        var name = FtpFileName.Encode(id);

        Assert.Equal(name, FtpFileName.Encode(id));
        Assert.NotEqual(name, FtpFileName.Encode(other));
        Assert.True(name.Length <= FtpFileName.MaxEncodedIdLength, name);
        Assert.Matches("^(%[0-9A-F]{2})+~[0-9a-f]{32}$", name);
    }

    [Fact]
    public void A_long_id_is_never_cut_inside_an_escape()
    {
        for (var prefix = 0; prefix < 3; prefix++)
        {
            var id = new string('a', prefix) + string.Concat(Enumerable.Repeat("/", 100));

            var head = FtpFileName.Encode(id).Split('~')[0];

            Assert.Matches("^a*(%2F)+$", head);
        }
    }
}
