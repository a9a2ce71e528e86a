using Relay.Core.Options;

namespace Relay.Adapters.Smtp;

/// <summary>
/// An SMTP destination (<c>Protocol: Smtp</c>): the shared settings (<c>Username</c> and <c>Password</c>
/// authenticate) and the mail's envelope, subject and TLS.
/// </summary>
public sealed class SmtpDestinationOptions : DestinationOptions
{
    public string? From { get; set; }
    public List<string> To { get; set; } = [];
    /// <summary>Subject template; <c>{id}</c> is the message id.</summary>
    public string Subject { get; set; } = "{id}";
    /// <summary>
    /// Lets a message set the headers that send replies or receipts to an address of its choosing (<c>Reply-To</c>,
    /// <c>Disposition-Notification-To</c>, ...); without it (the default) a message naming one is refused.
    /// </summary>
    public bool AllowReplyHeaders { get; set; }
    /// <summary>Explicit TLS (STARTTLS).</summary>
    public bool UseTls { get; set; }
}
