using System.Net.Security;

namespace Relay.Adapters.Smtp;

/// <summary>Settings of the SMTP adapter itself, the same for every SMTP destination (those are in <c>Relay:Destinations</c>).</summary>
public sealed class SmtpAdapterOptions
{
    /// <summary>The name given in EHLO; null: the machine's name.</summary>
    public string? LocalDomain { get; set; }

    /// <summary>How long the courtesy QUIT after an accepted mail may take; it never changes the outcome.</summary>
    public TimeSpan QuitTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Validation of the server's certificate with <c>UseTls</c> (STARTTLS). Null (the default): the system's
    /// validation. For a private CA, trust it in the system's store rather than replacing this.
    /// </summary>
    public RemoteCertificateValidationCallback? CertificateValidation { get; set; }
}
