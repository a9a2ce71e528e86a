using Relay.Contracts;

namespace Relay.Adapters.Ftp;

/// <summary>
/// Whether an FTP reply that stopped an upload is worth another attempt (RFC 959 §4.2.1): 4yz replies are
/// "transient negative completion" (421 service not available, 425 cannot open data connection, 426 transfer
/// aborted, 450 file busy, 451 local error, 452 insufficient storage): retryable. 5yz replies are "permanent"
/// (530 not logged in, 550 permission denied or no such folder, 552 storage allocation exceeded, 553 file name not
/// allowed, 500/501/502/504 command not understood or not implemented): final. Any other reply where the upload
/// cannot go on (332 an account is needed, a 2yz where a 1yz was due) will come again the same way: final.
/// </summary>
public static class FtpReplyClassifier
{
    public static AttemptOutcome ClassifyFailure(int replyCode) => replyCode switch
    {
        >= 400 and < 500 => AttemptOutcome.RetryableFailure,
        _ => AttemptOutcome.NonRetryableFailure,
    };
}
