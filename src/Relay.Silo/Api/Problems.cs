using Relay.Core.Messages;
using Relay.Grains;

namespace Relay.Silo.Api;

/// <summary>Errors as RFC 9457 problem+json, with a title a person can act on.</summary>
internal static class Problems
{
    public static IResult From(RelayError error) =>
        Results.Problem(statusCode: error.StatusCode, title: error.Title, detail: error.Detail);

    public static IResult Of(int statusCode, string title, string? detail = null) =>
        Results.Problem(statusCode: statusCode, title: title, detail: detail);

    /// <summary>
    /// Runs an API action against the grains: an error the caller caused becomes its problem; storage or
    /// cluster trouble becomes 503 (the caller may send again: sends are idempotent by id).
    /// </summary>
    public static async Task<IResult> Guard(ILogger logger, string? messageId, Func<Task<IResult>> action)
    {
        try
        {
            return await action();
        }
        catch (RelayGrainException ex)
        {
            return From(ex.ToError());
        }
        catch (RelayErrorException ex)
        {
            return From(ex.Error);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Storage down, a silo lost, a grain call timed out: the caller cannot know whether its request took
            // effect, and a retry with the same id is safe. Logged once, with the message id.
            Log.Unavailable(logger, ex, messageId ?? "-");
            return From(Messaging.MessageService.Unavailable);
        }
    }
}

internal static partial class Log
{
    [LoggerMessage(EventId = 3001, Level = LogLevel.Error, Message = "Message {MessageId}: storage or cluster unavailable")]
    public static partial void Unavailable(ILogger logger, Exception exception, string messageId);
}
