using Relay.Adapters.Ftp;

namespace Relay.Adapters.Tests.Ftp;

public class FtpReplyClassifierTests
{
    [Theory]
    [InlineData(421)] // service not available, closing control connection
    [InlineData(425)] // can't open data connection
    [InlineData(426)] // connection closed, transfer aborted
    [InlineData(450)] // file unavailable (busy)
    [InlineData(451)] // local error in processing
    [InlineData(452)] // insufficient storage
    public void Transient_4xx_replies_are_retryable(int code)
    {
        Assert.Equal(AttemptOutcome.RetryableFailure, FtpReplyClassifier.ClassifyFailure(code));
    }

    [Theory]
    [InlineData(500)] // syntax error
    [InlineData(501)] // syntax error in arguments
    [InlineData(502)] // command not implemented
    [InlineData(504)] // not implemented for that parameter
    [InlineData(530)] // not logged in
    [InlineData(532)] // need account for storing files
    [InlineData(534)] // TLS refused by policy
    [InlineData(550)] // permission denied, no such folder
    [InlineData(551)] // page type unknown
    [InlineData(552)] // exceeded storage allocation
    [InlineData(553)] // file name not allowed
    public void Permanent_5xx_replies_are_final(int code)
    {
        Assert.Equal(AttemptOutcome.NonRetryableFailure, FtpReplyClassifier.ClassifyFailure(code));
    }

    [Theory]
    [InlineData(332)] // need account for login: the same server will ask again
    [InlineData(226)] // a completion where a preliminary reply was due
    public void Other_replies_where_the_upload_cannot_go_on_are_final(int code)
    {
        Assert.Equal(AttemptOutcome.NonRetryableFailure, FtpReplyClassifier.ClassifyFailure(code));
    }
}
