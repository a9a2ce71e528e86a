using System.Globalization;

namespace Relay.Adapters.Ftp;

/// <summary>One reply of an FTP server (RFC 959 §4.2): a three-digit code and its text, one line or several.</summary>
internal sealed record FtpReply(int Code, IReadOnlyList<string> Lines)
{
    /// <summary>The text of the reply's first line, without the code.</summary>
    public string Message => Lines.Count == 0 ? "" : Lines[0];

    /// <summary>1yz: the command was accepted and another reply follows.</summary>
    public bool IsPreliminary => Code is >= 100 and < 200;

    /// <summary>2yz: done.</summary>
    public bool IsCompletion => Code is >= 200 and < 300;

    /// <summary>3yz: accepted, waiting for the next command of a sequence (PASS after USER).</summary>
    public bool IsIntermediate => Code is >= 300 and < 400;

    /// <summary>The code and the first line, as an operator reads it in the audit: <c>550 Permission denied.</c></summary>
    public override string ToString() =>
        string.IsNullOrEmpty(Message)
            ? Code.ToString(CultureInfo.InvariantCulture)
            : string.Create(CultureInfo.InvariantCulture, $"{Code} {Message}");
}

/// <summary>The server answered a command with a reply the upload cannot go on from.</summary>
internal sealed class FtpReplyException(string command, FtpReply reply)
    : Exception($"{command}: {reply}")
{
    /// <summary>The command's name and, where it is no secret, its argument (never the password).</summary>
    public string Command { get; } = command;

    public FtpReply Reply { get; } = reply;
}

/// <summary>The server broke the protocol: a reply that cannot be parsed, is too long, or makes no sense where it came.</summary>
internal sealed class FtpProtocolException(string message) : Exception(message);

/// <summary>The server closed the control connection where a reply was due.</summary>
internal sealed class FtpConnectionClosedException() : IOException("Connection closed by the server");
