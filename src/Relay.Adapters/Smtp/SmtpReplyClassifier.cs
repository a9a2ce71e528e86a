using Relay.Contracts;

namespace Relay.Adapters.Smtp;

/// <summary>
/// Whether an SMTP reply that refused a mail is worth another attempt (RFC 5321 §4.2.1): 4yz is a transient
/// negative completion (421 service not available, 450 mailbox busy, 451 local error, 452 insufficient storage,
/// 454 TLS or authentication temporarily unavailable): retryable. 5yz is permanent (550 mailbox unavailable, 551
/// user not local, 552 storage allocation exceeded, 553 mailbox name not allowed, 554 transaction failed, 530/535
/// authentication required or refused, 500-504 command not understood): final. Anything else where the mail cannot
/// go on is a server that will answer the same way again: final.
/// </summary>
public static class SmtpReplyClassifier
{
    public static AttemptOutcome ClassifyFailure(int replyCode) => replyCode switch
    {
        >= 400 and < 500 => AttemptOutcome.RetryableFailure,
        _ => AttemptOutcome.NonRetryableFailure,
    };
}
