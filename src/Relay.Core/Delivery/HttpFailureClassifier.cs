using Relay.Contracts;

namespace Relay.Core.Delivery;

/// <summary>
/// Which HTTP answers are worth another attempt. Retryable: 408, 409, 425, 429 and 5xx (and no answer
/// at all, which the adapter reports itself); success: 2xx; every other status is final.
/// </summary>
public static class HttpFailureClassifier
{
    public static AttemptOutcome Classify(int statusCode) => statusCode switch
    {
        >= 200 and < 300 => AttemptOutcome.Success,
        408 or 409 or 425 or 429 => AttemptOutcome.RetryableFailure,
        >= 500 and < 600 => AttemptOutcome.RetryableFailure,
        _ => AttemptOutcome.NonRetryableFailure,
    };

    /// <summary>
    /// Parses <c>Retry-After</c> (delta-seconds or an HTTP date). Answers null when absent, unparsable,
    /// or in the past; caps it at <paramref name="cap"/> so a destination cannot park a delivery for years.
    /// </summary>
    public static TimeSpan? ParseRetryAfter(string? value, DateTimeOffset now, TimeSpan cap)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        value = value.Trim();
        TimeSpan? delay = null;
        if (long.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds))
        {
            // Compared before converting: TimeSpan.FromSeconds throws beyond TimeSpan.MaxValue (a cap of MaxValue means none).
            delay = seconds >= cap.TotalSeconds ? cap : TimeSpan.FromSeconds(seconds);
        }
        else if (DateTimeOffset.TryParseExact(value, "r", System.Globalization.CultureInfo.InvariantCulture,
                     System.Globalization.DateTimeStyles.AssumeUniversal, out var date))
        {
            delay = date - now;
        }

        if (delay is not { } d || d <= TimeSpan.Zero)
        {
            return null;
        }

        return d > cap ? cap : d;
    }
}
