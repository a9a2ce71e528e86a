using Relay.Adapters.Ftp;

namespace Relay.Adapters.Tests.Ftp;

public class FtpPassiveReplyTests
{
    [Theory]
    [InlineData("Entering Extended Passive Mode (|||6446|)", 6446)]
    [InlineData("EPSV ok (!!!21!)", 21)]
    public void Reads_the_port_of_an_EPSV_reply(string text, int port)
    {
        Assert.Equal(port, FtpClient.ParseEpsvPort(new FtpReply(229, [text])));
    }

    [Theory]
    [InlineData("Entering Extended Passive Mode (|||0|)")]
    [InlineData("Entering Extended Passive Mode (|||70000|)")]
    [InlineData("Entering Extended Passive Mode (||1|2|)")]
    [InlineData("Entering Extended Passive Mode")]
    [InlineData("(|||x|)")]
    public void An_EPSV_reply_without_a_port_is_a_protocol_error(string text)
    {
        Assert.Throws<FtpProtocolException>(() => FtpClient.ParseEpsvPort(new FtpReply(229, [text])));
    }

    [Theory]
    [InlineData("Entering Passive Mode (127,0,0,1,195,80).", 50000)]
    [InlineData("Entering Passive Mode 10,1,2,3,0,21", 21)]
    public void Reads_the_port_of_a_PASV_reply_and_ignores_its_address(string text, int port)
    {
        Assert.Equal(port, FtpClient.ParsePasvPort(new FtpReply(227, [text])));
    }

    [Theory]
    [InlineData("Entering Passive Mode (127,0,0,1,300,1).")]
    [InlineData("Entering Passive Mode (127,0,0,1).")]
    [InlineData("Entering Passive Mode (127,0,0,1,0,0).")]
    public void A_PASV_reply_without_an_address_is_a_protocol_error(string text)
    {
        Assert.Throws<FtpProtocolException>(() => FtpClient.ParsePasvPort(new FtpReply(227, [text])));
    }
}
