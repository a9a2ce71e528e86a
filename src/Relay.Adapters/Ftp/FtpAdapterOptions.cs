using System.Net.Security;

namespace Relay.Adapters.Ftp;

/// <summary>Settings of the FTP adapter itself, the same for every FTP destination (those are in <c>Relay:Destinations</c>).</summary>
public sealed class FtpAdapterOptions
{
    /// <summary>Largest reply (all lines of a multi-line one) read from a server; a longer one is a protocol error.</summary>
    public int MaxReplyBytes { get; set; } = 16 * 1024;

    /// <summary>How long the courtesy QUIT after a finished upload may take; it never changes the outcome.</summary>
    public TimeSpan QuitTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Validation of the server's certificate with <c>UseTls</c>. Null (the default): the system's validation
    /// (a trusted chain that names the address's host). For a private CA, trust it in the system's store rather
    /// than replacing this.
    /// </summary>
    public RemoteCertificateValidationCallback? CertificateValidation { get; set; }
}
