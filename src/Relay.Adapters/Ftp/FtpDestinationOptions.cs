using Relay.Core.Options;

namespace Relay.Adapters.Ftp;

/// <summary>
/// An FTP destination (<c>Protocol: Ftp</c>): the shared settings (<c>Username</c> and <c>Password</c> log in;
/// neither: anonymous) and the file's name and the connection's TLS.
/// </summary>
public sealed class FtpDestinationOptions : DestinationOptions
{
    /// <summary>File name template; <c>{id}</c> is the message id (made safe for a file name).</summary>
    public string FileName { get; set; } = "{id}.dat";
    /// <summary>Explicit TLS (FTPS with AUTH TLS).</summary>
    public bool UseTls { get; set; }
}
