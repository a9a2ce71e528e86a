using Relay.Contracts;
using Relay.Core.Delivery;

namespace Relay.Adapters.Ebms;

/// <summary>
/// What an ebMS answer means for the delivery it is about (ebMS 2.0 §4.2.3.4, the error codes):
/// <list type="table">
/// <item><term>an <c>eb:Acknowledgment</c> of the delivery's MessageId, and no error of severity Error</term><description>success</description></item>
/// <item><term><c>DeliveryFailure</c> (severity Error or Warning: the message may not have reached the party)</term><description>retryable</description></item>
/// <item><term><c>ValueNotRecognized</c>, <c>NotSupported</c>, <c>Inconsistent</c>, <c>OtherXml</c>, <c>TimeToLiveExpired</c>,
/// <c>SecurityFailure</c>, <c>MimeProblem</c>, <c>Unknown</c>, and any code ebMS 2.0 does not define, with severity Error</term>
/// <description>final: the same message would meet the same error</description></item>
/// <item><term>errors of severity Warning only (other than DeliveryFailure)</term><description>no error: the message was processed</description></item>
/// <item><term>a SOAP fault <c>Server</c></term><description>retryable</description></item>
/// <item><term>a SOAP fault <c>Client</c>, <c>MustUnderstand</c>, <c>VersionMismatch</c>, other</term><description>final</description></item>
/// </list>
/// An error list decides before a fault beside it; a reply with neither is judged by its HTTP status and, when an
/// acknowledgment was asked for in the reply, by whether it came.
/// </summary>
public static class EbmsReplyClassifier
{
    /// <summary>The error codes ebMS 2.0 defines.</summary>
    public static readonly IReadOnlySet<string> KnownCodes = new HashSet<string>(StringComparer.Ordinal)
    {
        "ValueNotRecognized", "NotSupported", "Inconsistent", "OtherXml", "DeliveryFailure", "TimeToLiveExpired",
        "SecurityFailure", "MimeProblem", "Unknown",
    };

    /// <summary>One error's outcome, or null when it does not stand in the way (a warning).</summary>
    public static AttemptOutcome? Classify(EbmsError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        if (error.Code == "DeliveryFailure")
        {
            return AttemptOutcome.RetryableFailure;
        }

        return error.IsError ? AttemptOutcome.NonRetryableFailure : null;
    }

    /// <summary>The outcome of an error list: the worst of its errors (final over retryable); null when only warnings.</summary>
    public static AttemptOutcome? Classify(IReadOnlyList<EbmsError> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        AttemptOutcome? worst = null;
        foreach (var error in errors)
        {
            var outcome = Classify(error);
            if (outcome == AttemptOutcome.NonRetryableFailure)
            {
                return outcome;
            }

            worst ??= outcome;
        }

        return worst;
    }

    /// <summary>A SOAP fault's outcome: <c>Server</c> retryable, every other code final.</summary>
    public static AttemptOutcome ClassifyFault(string code) =>
        code == "Server" ? AttemptOutcome.RetryableFailure : AttemptOutcome.NonRetryableFailure;

    /// <summary>
    /// What a reply (or a signal posted later) says about the message <paramref name="messageId"/>: the outcome and, for a
    /// failure, the line for the audit; null when it says nothing about it (neither acknowledgment nor errors nor fault).
    /// </summary>
    public static (AttemptOutcome Outcome, string? Error)? Judge(EbmsSignal signal, string messageId)
    {
        ArgumentNullException.ThrowIfNull(signal);
        if (signal.RefersTo is { } refersTo && !string.Equals(refersTo, messageId, StringComparison.Ordinal))
        {
            // Not about this message: whatever it says, this one is not acknowledged.
            return (AttemptOutcome.RetryableFailure, $"The reply refers to the ebXML message {Cut(refersTo)}, not to {messageId}");
        }

        if (Classify(signal.Errors) is { } outcome)
        {
            return (outcome, "ebXML error " + string.Join("; ", signal.Errors.Where(e => Classify(e) is not null)));
        }

        if (signal.Fault is { } fault)
        {
            var reason = string.IsNullOrWhiteSpace(fault.Reason) ? "" : ": " + Cut(fault.Reason.Trim(), 500);
            return (ClassifyFault(fault.Code), $"SOAP fault {fault.Code}{reason}");
        }

        if (signal.AcknowledgedMessageId is not null)
        {
            return (AttemptOutcome.Success, null);
        }

        return null;
    }

    private static string Cut(string value, int max = 100) => value.Length <= max ? value : value[..max] + "…";
}
