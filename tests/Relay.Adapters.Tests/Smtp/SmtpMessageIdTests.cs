using MimeKit;
using MimeKit.Utils;
using Relay.Adapters.Smtp;

namespace Relay.Adapters.Tests.Smtp;

public class SmtpMessageIdTests
{
    [Fact]
    public void Is_the_message_id_and_the_destination_at_the_domain_of_From()
    {
        Assert.Equal("order-123.mail@example.com", SmtpMessageId.For("order-123", "mail", "example.com"));
    }

    [Fact]
    public void Is_the_same_every_time_and_differs_per_destination()
    {
        Assert.Equal(SmtpMessageId.For("m-1", "a", "x.org"), SmtpMessageId.For("m-1", "a", "x.org"));
        Assert.NotEqual(SmtpMessageId.For("m-1", "a", "x.org"), SmtpMessageId.For("m-1", "b", "x.org"));
    }

    [Fact]
    public void Without_a_domain_it_takes_one_that_cannot_exist()
    {
        Assert.Equal("m.d@relay.invalid", SmtpMessageId.For("m", "d", null));
    }

    [Theory]
    [InlineData("order.1", "order.1")]
    [InlineData(".lead", "%2Elead")]
    [InlineData("trail.", "trail%2E")]
    [InlineData("a..b", "a%2E%2Eb")]
    [InlineData("a b<c>@d", "a%20b%3Cc%3E%40d")]
    [InlineData("100%", "100%25")]
    [InlineData("ü", "%C3%BC")]
    public void Encodes_each_part_to_a_dot_atom(string id, string expected)
    {
        Assert.Equal(expected, SmtpMessageId.Encode(id));
    }

    [Theory]
    [InlineData("order-123")]
    [InlineData("a..b. c<d>\"e\"")]
    [InlineData("~notify:billing:1:order-9")]
    [InlineData("ünïcödé")]
    public void MimeKit_reads_back_exactly_what_was_written(string id)
    {
        var messageId = SmtpMessageId.For(id, "mail.dest", "example.com");

        var parsed = MimeUtils.EnumerateReferences($"<{messageId}>").Single();

        Assert.Equal(messageId, parsed);
        var message = new MimeMessage { MessageId = messageId };
        Assert.Equal(messageId, message.MessageId);
    }

    [Fact]
    public void A_long_id_is_shortened_with_a_hash()
    {
        var id = new string('x', 300);

        var encoded = SmtpMessageId.Encode(id);

        Assert.Equal(new string('x', 100) + "~", encoded[..101]);
        Assert.Equal(133, encoded.Length);
        Assert.NotEqual(encoded, SmtpMessageId.Encode(new string('x', 299) + "y"));
    }
}
