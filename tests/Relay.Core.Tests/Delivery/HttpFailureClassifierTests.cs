using Relay.Core.Delivery;

namespace Relay.Core.Tests.Delivery;

public class HttpFailureClassifierTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Cap = TimeSpan.FromHours(1);

    [Theory]
    [InlineData(408)]
    [InlineData(409)]
    [InlineData(425)]
    [InlineData(429)]
    [InlineData(500)]
    [InlineData(501)]
    [InlineData(502)]
    [InlineData(503)]
    [InlineData(504)]
    [InlineData(507)]
    [InlineData(599)]
    public void Timeouts_conflicts_too_early_throttling_and_5xx_are_retryable(int status)
    {
        Assert.Equal(AttemptOutcome.RetryableFailure, HttpFailureClassifier.Classify(status));
    }

    [Fact]
    public void Every_5xx_is_retryable()
    {
        Assert.All(Enumerable.Range(500, 100), status => Assert.Equal(AttemptOutcome.RetryableFailure, HttpFailureClassifier.Classify(status)));
    }

    [Theory]
    [InlineData(400)]
    [InlineData(401)]
    [InlineData(403)]
    [InlineData(404)]
    [InlineData(405)]
    [InlineData(410)]
    [InlineData(413)]
    [InlineData(415)]
    [InlineData(422)]
    [InlineData(451)]
    [InlineData(499)]
    public void Other_4xx_are_final(int status)
    {
        Assert.Equal(AttemptOutcome.NonRetryableFailure, HttpFailureClassifier.Classify(status));
    }

    [Fact]
    public void Every_4xx_but_408_409_425_429_is_final()
    {
        var retryable = new[] { 408, 409, 425, 429 };
        Assert.All(Enumerable.Range(400, 100).Except(retryable),
            status => Assert.Equal(AttemptOutcome.NonRetryableFailure, HttpFailureClassifier.Classify(status)));
    }

    [Theory]
    [InlineData(200)]
    [InlineData(201)]
    [InlineData(202)]
    [InlineData(204)]
    [InlineData(299)]
    public void Every_2xx_is_success(int status)
    {
        Assert.Equal(AttemptOutcome.Success, HttpFailureClassifier.Classify(status));
    }

    [Theory]
    [InlineData(300)]
    [InlineData(301)]
    [InlineData(302)]
    [InlineData(304)]
    [InlineData(307)]
    [InlineData(308)]
    public void Redirects_are_final(int status)
    {
        Assert.Equal(AttemptOutcome.NonRetryableFailure, HttpFailureClassifier.Classify(status));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(100)]
    [InlineData(199)]
    [InlineData(600)]
    [InlineData(-1)]
    public void Statuses_outside_the_HTTP_classes_are_final(int status)
    {
        Assert.Equal(AttemptOutcome.NonRetryableFailure, HttpFailureClassifier.Classify(status));
    }

    [Theory]
    [InlineData("120", 120)]
    [InlineData(" 30 ", 30)]
    [InlineData("1", 1)]
    public void Retry_After_in_seconds_is_a_delay(string value, int seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), HttpFailureClassifier.ParseRetryAfter(value, Now, Cap));
    }

    [Fact]
    public void Retry_After_as_an_HTTP_date_is_the_time_until_that_date()
    {
        var value = Now.AddMinutes(2).ToString("r", System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal(TimeSpan.FromMinutes(2), HttpFailureClassifier.ParseRetryAfter(value, Now, Cap));
    }

    [Fact]
    public void Retry_After_as_a_literal_HTTP_date_is_parsed_as_GMT()
    {
        var now = new DateTimeOffset(2015, 10, 21, 7, 20, 0, TimeSpan.Zero);

        Assert.Equal(TimeSpan.FromMinutes(8), HttpFailureClassifier.ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", now, Cap));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("soon")]
    [InlineData("1.5")]
    [InlineData("-5")]
    [InlineData("+5")]
    [InlineData("5s")]
    [InlineData("2026-11-23T10:05:00Z")]
    [InlineData("Mon, 99 Foo 2026 25:61:00 GMT")]
    public void Retry_After_that_is_absent_or_garbage_is_ignored(string? value)
    {
        Assert.Null(HttpFailureClassifier.ParseRetryAfter(value, Now, Cap));
    }

    [Fact]
    public void Retry_After_zero_seconds_is_ignored()
    {
        Assert.Null(HttpFailureClassifier.ParseRetryAfter("0", Now, Cap));
    }

    [Fact]
    public void Retry_After_date_in_the_past_or_now_is_ignored()
    {
        var past = Now.AddMinutes(-5).ToString("r", System.Globalization.CultureInfo.InvariantCulture);
        var present = Now.ToString("r", System.Globalization.CultureInfo.InvariantCulture);

        Assert.Null(HttpFailureClassifier.ParseRetryAfter(past, Now, Cap));
        Assert.Null(HttpFailureClassifier.ParseRetryAfter(present, Now, Cap));
    }

    [Theory]
    [InlineData("3601")]
    [InlineData("86400")]
    [InlineData("9223372036854775807")]
    public void Retry_After_in_seconds_is_capped(string value)
    {
        Assert.Equal(Cap, HttpFailureClassifier.ParseRetryAfter(value, Now, Cap));
    }

    [Fact]
    public void Retry_After_exactly_at_the_cap_is_kept()
    {
        Assert.Equal(Cap, HttpFailureClassifier.ParseRetryAfter("3600", Now, Cap));
    }

    [Fact]
    public void Retry_After_date_years_ahead_is_capped()
    {
        var far = Now.AddYears(3).ToString("r", System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal(Cap, HttpFailureClassifier.ParseRetryAfter(far, Now, Cap));
    }

    [Fact]
    public void Retry_After_with_the_largest_cap_does_not_overflow()
    {
        Assert.Equal(TimeSpan.MaxValue, HttpFailureClassifier.ParseRetryAfter("9223372036854775807", Now, TimeSpan.MaxValue));
        Assert.Equal(TimeSpan.FromSeconds(90), HttpFailureClassifier.ParseRetryAfter("90", Now, TimeSpan.MaxValue));
    }
}
