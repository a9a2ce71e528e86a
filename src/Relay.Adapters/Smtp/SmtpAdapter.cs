using System.Net.Sockets;
using System.Text;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MimeKit;
using Relay.Contracts;
using Relay.Core.Delivery;
using Relay.Core.Messages;
using Relay.Core.Options;

namespace Relay.Adapters.Smtp;

/// <summary>
/// Delivers to SMTP servers (MailKit): the payload becomes the body of one mail, with its content type as sent,
/// from <c>From</c> to every <c>To</c>, with the <c>Subject</c> template, the message's headers (less those
/// <see cref="RefusesHeader"/> and <see cref="DestinationHeaders"/> keep from senders), and a Message-ID
/// derived from the message id (<see cref="SmtpMessageId"/>) plus <c>X-Relay-Message-Id</c>, <c>X-Relay-Attempt</c>
/// and <c>X-Relay-Correlation-Id</c>. The envelope is exactly From and To: no header of a message adds a recipient.
/// </summary>
public sealed partial class SmtpAdapter : IProtocolAdapter<SmtpDestinationOptions>
{
    // Headers of a message that would change who gets the mail or how it is read, and those the adapter sets.
    private static readonly HashSet<string> ReservedHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "From", "Sender", "To", "Cc", "Bcc", "Subject", "Date", "Message-ID", "MIME-Version", "Return-Path", "Received",
    };

    private static readonly string[] ReservedPrefixes = ["Content-", "Resent-", "X-Relay-"];

    // Headers that send replies, receipts or bounces to an address the sender chooses: only with AllowReplyHeaders.
    private static readonly HashSet<string> ReplyHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Reply-To", "Mail-Reply-To", "Mail-Followup-To", "Disposition-Notification-To", "Return-Receipt-To", "Errors-To",
    };

    private readonly SmtpAdapterOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<SmtpAdapter> _logger;
    private readonly SecretReader _secrets;

    public SmtpAdapter(IOptions<SmtpAdapterOptions> options, TimeProvider time, ILogger<SmtpAdapter> logger)
    {
        _options = options.Value;
        _time = time;
        _logger = logger;
        _secrets = new SecretReader(time);
    }

    public string Protocol => "Smtp";

    public string? RefusesHeader(SmtpDestinationOptions destination, string name)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(name);
        if (ReservedHeaders.Contains(name) || ReservedPrefixes.Any(p => name.StartsWith(p, StringComparison.OrdinalIgnoreCase)))
        {
            return "a mail destination sets it itself (From, To, Subject...), or it would change who gets the mail or how it is read";
        }

        if (ReplyHeaders.Contains(name) && !destination.AllowReplyHeaders)
        {
            return "it sends replies or receipts to an address of the sender's choosing, which the destination allows only with AllowReplyHeaders";
        }

        return null;
    }

    public async Task<AttemptResult> SendAsync(OutboundMessage message, SmtpDestinationOptions destination, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(destination.Address, UriKind.Absolute, out var address) || !string.Equals(address.Scheme, "smtp", StringComparison.OrdinalIgnoreCase))
        {
            return AttemptResult.Final("The destination's Address is not an smtp:// address");
        }

        if (!TryBuildMail(message, destination, out var mail, out var sender, out var recipients, out var problem))
        {
            return AttemptResult.Final(problem);
        }

        var messageIdHeader = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["Message-ID"] = $"<{mail.MessageId}>" };
        string? password = null;
        if (!string.IsNullOrEmpty(destination.Username))
        {
            try
            {
                // Read at each attempt (at most every SecretReader.RereadInterval from the disk): a rotated file takes effect.
                password = _secrets.Resolve(destination.Password, $"Relay:Destinations:{message.DestinationName}:Password") ?? "";
            }
            catch (SecretUnavailableException ex)
            {
                // The operator's file or variable, which may be mended: the message waits for it, and nothing is sent.
                return Failed(message, AttemptOutcome.RetryableFailure, ex.Message, null, messageIdHeader);
            }
        }

        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        using var client = new SmtpClient
        {
            Timeout = (int)Math.Clamp(timeout.TotalMilliseconds, 1, int.MaxValue),
            ServerCertificateValidationCallback = _options.CertificateValidation,
        };
        if (_options.LocalDomain is { } localDomain)
        {
            client.LocalDomain = localDomain;
        }

        try
        {
            var port = address.Port > 0 ? address.Port : 25;
            var security = destination.UseTls ? SecureSocketOptions.StartTls : SecureSocketOptions.None;
            await client.ConnectAsync(address.IdnHost, port, security, timeoutSource.Token).ConfigureAwait(false);
            if (destination.Username is { Length: > 0 } user)
            {
                await client.AuthenticateAsync(user, password ?? "", timeoutSource.Token).ConfigureAwait(false);
            }

            var response = await client.SendAsync(mail, sender, recipients, timeoutSource.Token).ConfigureAwait(false);
            using (var quitSource = CancellationTokenSource.CreateLinkedTokenSource(timeoutSource.Token))
            {
                quitSource.CancelAfter(_options.QuitTimeout);
                await QuitAsync(client, quitSource.Token).ConfigureAwait(false);
            }

            // MailKit answers the text of the reply to the end of DATA, which it accepts only as 250.
            return new AttemptResult
            {
                Outcome = AttemptOutcome.Success,
                StatusCode = 250,
                Headers = messageIdHeader,
                Body = string.IsNullOrEmpty(response) ? "250" : "250 " + ResponseText.FromText(response),
            };
        }
        catch (SmtpCommandException ex)
        {
            var code = (int)ex.StatusCode;
            var step = ex.ErrorCode switch
            {
                SmtpErrorCode.SenderNotAccepted => "MAIL FROM",
                SmtpErrorCode.RecipientNotAccepted => $"RCPT TO {ex.Mailbox?.Address}",
                SmtpErrorCode.MessageNotAccepted => "DATA",
                _ => "session",
            };
            return Failed(message, SmtpReplyClassifier.ClassifyFailure(code), $"{code} {OneLine(ex.Message)} ({step})", code, messageIdHeader);
        }
        catch (Exception ex) when (ex is TimeoutException
                                   || (timeoutSource.IsCancellationRequested && !cancellationToken.IsCancellationRequested
                                       && ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException or SmtpProtocolException))
        {
            // MailKit's own read and write timeout (set to the attempt's) ends in a TimeoutException.
            return Failed(message, AttemptOutcome.RetryableFailure, $"No answer within {timeout.TotalSeconds:0.###} s (timeout)", null, messageIdHeader);
        }
        catch (AuthenticationException ex)
        {
            // MailKit words a refused AUTH as "454: 4.7.0 ..." and keeps no code of its own: the reply's code leads
            // the message. Refused credentials (535) will be refused again; 454 is a passing state of the server.
            var code = ReplyCodeOf(ex.Message) ?? 535;
            return Failed(message, SmtpReplyClassifier.ClassifyFailure(code), "Authentication failed: " + OneLine(ex.Message), code, messageIdHeader);
        }
        catch (SslHandshakeException)
        {
            return Failed(message, AttemptOutcome.RetryableFailure, "TLS handshake failed", null, messageIdHeader);
        }
        catch (NotSupportedException ex)
        {
            // No STARTTLS with UseTls, no AUTH with a Username: the server's configuration, not a passing state.
            return Failed(message, AttemptOutcome.NonRetryableFailure, OneLine(ex.Message), null, messageIdHeader);
        }
        catch (SmtpProtocolException ex)
        {
            return Failed(message, AttemptOutcome.RetryableFailure, OneLine(ex.Message), null, messageIdHeader);
        }
        catch (Exception ex) when (ex is SocketException or IOException or ServiceNotConnectedException)
        {
            return Failed(message, AttemptOutcome.RetryableFailure, Describe(ex), null, messageIdHeader);
        }
    }

    private bool TryBuildMail(OutboundMessage message, SmtpDestinationOptions destination, out MimeMessage mail,
        out MailboxAddress sender, out List<MailboxAddress> recipients, out string problem)
    {
        mail = null!;
        sender = null!;
        recipients = [];
        if (!MailboxAddress.TryParse(destination.From ?? "", out var from))
        {
            problem = "The destination's From is not a mail address";
            return false;
        }

        sender = from;

        foreach (var to in destination.To)
        {
            if (!MailboxAddress.TryParse(to ?? "", out var recipient))
            {
                problem = "One of the destination's To is not a mail address";
                return false;
            }

            recipients.Add(recipient);
        }

        if (recipients.Count == 0)
        {
            problem = "The destination has no To";
            return false;
        }

        mail = new MimeMessage();
        mail.From.Add(sender);
        mail.To.AddRange(recipients);
        mail.Subject = destination.Subject.Replace("{id}", message.MessageId, StringComparison.Ordinal);
        mail.MessageId = SmtpMessageId.For(message.MessageId, message.DestinationName, sender.Domain);
        mail.Date = _time.GetUtcNow();
        foreach (var (name, value) in message.Headers)
        {
            // Refused at acceptance; a message stored before is sent without them.
            if (RefusesHeader(destination, name) is null && DestinationHeaders.Refusal(destination, name) is null)
            {
                mail.Headers.Add(name, Encoding.UTF8, value);
            }
        }

        mail.Headers.Add("X-Relay-Message-Id", Encoding.UTF8, message.MessageId);
        mail.Headers.Add("X-Relay-Attempt", message.Attempt.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (message.CorrelationId is not null)
        {
            mail.Headers.Add("X-Relay-Correlation-Id", Encoding.UTF8, message.CorrelationId);
        }

        var type = ContentType.TryParse(message.ContentType, out var parsed) ? parsed : new ContentType("application", "octet-stream");
        mail.Body = new MimePart(type)
        {
            Content = new MimeContent(new MemoryStream(message.Payload.ToArray(), writable: false)),
            // Text stays readable in quoted-printable; anything else travels byte for byte in base64.
            ContentTransferEncoding = type.IsMimeType("text", "*") ? ContentEncoding.QuotedPrintable : ContentEncoding.Base64,
        };
        problem = "";
        return true;
    }

    private static async Task QuitAsync(SmtpClient client, CancellationToken cancellationToken)
    {
        try
        {
            await client.DisconnectAsync(quit: true, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or SmtpProtocolException or SmtpCommandException)
        {
            // The mail was accepted already.
        }
    }

    private AttemptResult Failed(OutboundMessage message, AttemptOutcome outcome, string error, int? code, IReadOnlyDictionary<string, string> headers)
    {
        Log.AttemptFailed(_logger, message.MessageId, message.DestinationName, error);
        return new AttemptResult { Outcome = outcome, Error = error, StatusCode = code, Headers = headers };
    }

    /// <summary>The reply code a text starts with (<c>454: ...</c>, <c>535 ...</c>), if it starts with one.</summary>
    internal static int? ReplyCodeOf(string text) =>
        text.Length >= 4 && char.IsAsciiDigit(text[0]) && char.IsAsciiDigit(text[1]) && char.IsAsciiDigit(text[2]) && text[3] is ':' or ' '
        && text[0] is >= '2' and <= '5'
            ? int.Parse(text.AsSpan(0, 3), System.Globalization.CultureInfo.InvariantCulture)
            : null;

    /// <summary>A reply (or a message quoting one) on one line, as storable text.</summary>
    private static string OneLine(string text)
    {
        var line = ResponseText.FromText(text.ReplaceLineEndings(" ").Trim());
        return line.Length > 300 ? line[..300] + "…" : line;
    }

    private static string Describe(Exception ex) => SocketFailure.Describe(ex) ?? "Connection failed: " + ex.GetType().Name;

    private static partial class Log
    {
        [LoggerMessage(EventId = 2401, Level = LogLevel.Debug, Message = "SMTP attempt of message {MessageId} to {Destination} failed: {Error}")]
        public static partial void AttemptFailed(ILogger logger, string messageId, string destination, string error);
    }
}
