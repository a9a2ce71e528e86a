using Relay.Adapters.Ftp;

namespace Relay.Adapters.Tests.Ftp;

public class FtpReplyReaderTests
{
    private static FtpReplyReader Reader(string text, int maxReplyBytes = 16 * 1024) =>
        new(new MemoryStream(Encoding.UTF8.GetBytes(text)), maxReplyBytes);

    [Fact]
    public async Task Reads_a_single_line_reply()
    {
        var reply = await Reader("220 Service ready.\r\n").ReadAsync(CancellationToken.None);

        Assert.Equal(220, reply.Code);
        Assert.Equal("Service ready.", reply.Message);
        Assert.Equal("220 Service ready.", reply.ToString());
    }

    [Fact]
    public async Task Reads_a_multi_line_reply_up_to_the_line_with_the_same_code_and_a_space()
    {
        const string text = "230-Welcome.\r\n  Plain inner line\r\n230-Prefixed inner line\r\n123 not the end\r\n230 Login successful.\r\n226 next\r\n";
        var reader = Reader(text);

        var reply = await reader.ReadAsync(CancellationToken.None);
        var next = await reader.ReadAsync(CancellationToken.None);

        Assert.Equal(230, reply.Code);
        Assert.Equal(["Welcome.", "  Plain inner line", "Prefixed inner line", "123 not the end", "Login successful."], reply.Lines);
        Assert.Equal(226, next.Code);
    }

    [Fact]
    public async Task Takes_bare_line_feeds_and_replies_without_text()
    {
        var reader = Reader("200\n331 User ok\n");

        Assert.Equal(200, (await reader.ReadAsync(CancellationToken.None)).Code);
        Assert.Equal("User ok", (await reader.ReadAsync(CancellationToken.None)).Message);
    }

    [Fact]
    public async Task Decodes_the_text_as_UTF8()
    {
        var reply = await Reader("550 Dossier « entrée » introuvable\r\n").ReadAsync(CancellationToken.None);

        Assert.Equal("Dossier « entrée » introuvable", reply.Message);
    }

    [Fact]
    public async Task NUL_and_bytes_that_are_not_UTF8_are_escaped_as_ResponseText()
    {
        var reader = new FtpReplyReader(new MemoryStream([.. "550 bad "u8, 0, 0xFF, .. " entr\u00e9e\r\n"u8]), 1024);

        var reply = await reader.ReadAsync(CancellationToken.None);

        Assert.Equal(550, reply.Code);
        Assert.Equal("bad \\x00\\xFF entrée", reply.Message);
    }

    [Fact]
    public async Task A_reply_longer_than_the_limit_is_a_protocol_error()
    {
        var endless = "220-" + new string('x', 100) + "\r\n" + string.Concat(Enumerable.Repeat("more\r\n", 1000)) + "220 end\r\n";

        var error = await Assert.ThrowsAsync<FtpProtocolException>(() => Reader(endless, maxReplyBytes: 1024).ReadAsync(CancellationToken.None));
        Assert.Contains("1024 bytes", error.Message);
    }

    [Fact]
    public async Task A_line_without_end_longer_than_the_limit_is_a_protocol_error()
    {
        await Assert.ThrowsAsync<FtpProtocolException>(() => Reader(new string('2', 5000), maxReplyBytes: 1024).ReadAsync(CancellationToken.None));
    }

    [Theory]
    [InlineData("hello\r\n")]
    [InlineData("22 short\r\n")]
    [InlineData("700 out of range\r\n")]
    [InlineData("220x\r\n")]
    [InlineData("\r\n")]
    public async Task A_line_that_is_no_reply_is_a_protocol_error(string text)
    {
        await Assert.ThrowsAsync<FtpProtocolException>(() => Reader(text).ReadAsync(CancellationToken.None));
    }

    [Theory]
    [InlineData("")]
    [InlineData("220 no line end")]
    [InlineData("230-first\r\nsecond\r\n")]
    public async Task The_end_of_the_connection_before_a_whole_reply_is_a_closed_connection(string text)
    {
        await Assert.ThrowsAsync<FtpConnectionClosedException>(() => Reader(text).ReadAsync(CancellationToken.None));
    }
}
