using Relay.Adapters.Smtp;

namespace Relay.Adapters.Tests.Smtp;

public class SmtpReplyClassifierTests
{
    [Theory]
    [InlineData(421)] // service not available
    [InlineData(450)] // mailbox unavailable (busy)
    [InlineData(451)] // local error in processing
    [InlineData(452)] // insufficient system storage
    [InlineData(454)] // TLS or authentication temporarily unavailable
    public void Transient_4xx_replies_are_retryable(int code)
    {
        Assert.Equal(AttemptOutcome.RetryableFailure, SmtpReplyClassifier.ClassifyFailure(code));
    }

    [Theory]
    [InlineData(500)] // syntax error
    [InlineData(501)] // syntax error in parameters
    [InlineData(502)] // command not implemented
    [InlineData(530)] // authentication required
    [InlineData(535)] // authentication credentials invalid
    [InlineData(550)] // mailbox unavailable
    [InlineData(551)] // user not local
    [InlineData(552)] // exceeded storage allocation
    [InlineData(553)] // mailbox name not allowed
    [InlineData(554)] // transaction failed
    public void Permanent_5xx_replies_are_final(int code)
    {
        Assert.Equal(AttemptOutcome.NonRetryableFailure, SmtpReplyClassifier.ClassifyFailure(code));
    }

    [Theory]
    [InlineData("454: 4.7.0 Temporary authentication failure", 454)]
    [InlineData("535 5.7.8 Authentication credentials invalid", 535)]
    [InlineData("Authentication failed.", null)]
    [InlineData("999: nonsense", null)]
    [InlineData("45", null)]
    public void Reads_the_reply_code_MailKit_puts_before_an_authentication_failure(string text, int? code)
    {
        Assert.Equal(code, SmtpAdapter.ReplyCodeOf(text));
    }
}
