using Microsoft.Extensions.Logging;

namespace Relay.Adapters.Tests;

internal static class TestMessages
{
    public static OutboundMessage Outbound(string id, string payload, string contentType = "application/json",
        IReadOnlyDictionary<string, string>? headers = null, int attempt = 1, string destination = "target", string? correlationId = null) =>
        new()
        {
            MessageId = id,
            DestinationName = destination,
            Attempt = attempt,
            Payload = Encoding.UTF8.GetBytes(payload),
            ContentType = contentType,
            Headers = headers ?? new Dictionary<string, string>(),
            CorrelationId = correlationId,
        };

    /// <summary>A logger whose every line lands in <paramref name="logs"/>, at every level.</summary>
    public static ILogger<T> Logger<T>(CapturedLogs logs) =>
        LoggerFactory.Create(builder => builder.AddProvider(logs).SetMinimumLevel(LogLevel.Trace)).CreateLogger<T>();
}

internal static class AssertAttempt
{
    /// <summary>Asserts the outcome, showing the error and the audit text when it differs.</summary>
    public static void Outcome(Relay.Contracts.AttemptOutcome expected, Relay.Core.Delivery.AttemptResult result)
    {
        if (result.Outcome != expected)
        {
            Assert.Fail($"Expected {expected}, got {result.Outcome}: {result.StatusCode} {result.Error}\n{result.Body}");
        }
    }
}
