using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Relay.Adapters.Ftp;

/// <summary>How to reach an FTP server and what to accept from it.</summary>
internal sealed record FtpConnectionSettings
{
    public required string Host { get; init; }
    public int Port { get; init; } = 21;
    /// <summary>Explicit FTPS: <c>AUTH TLS</c> before the login, and <c>PROT P</c> (encrypted data connections).</summary>
    public bool UseTls { get; init; }
    /// <summary>Null: the system's certificate validation.</summary>
    public RemoteCertificateValidationCallback? CertificateValidation { get; init; }
    public int MaxReplyBytes { get; init; } = 16 * 1024;
}

/// <summary>
/// The small FTP client the FTP adapter needs, on <see cref="System.Net.Sockets"/> (RFC 959, RFC 2428 EPSV,
/// RFC 4217 explicit TLS): log in, upload one file in binary mode over a passive data connection, quit.
/// Every step honours the cancellation token, which carries the attempt's timeout.
/// </summary>
/// <remarks>
/// The data connection always goes to the address the control connection reached, whatever address a PASV reply
/// names (as curl does by default): servers behind NAT often name an address of their private network, and a
/// hostile server must not be able to point the upload at another host.
/// </remarks>
internal sealed partial class FtpClient : IAsyncDisposable
{
    private const int MaxTranscriptLines = 40;

    private readonly FtpConnectionSettings _settings;
    private readonly Socket _socket;
    private readonly FtpReplyReader _reader;
    private readonly List<string> _transcript = [];
    private Stream _stream;
    private bool _dataProtected;

    private FtpClient(FtpConnectionSettings settings, Socket socket)
    {
        _settings = settings;
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _reader = new FtpReplyReader(_stream, settings.MaxReplyBytes);
    }

    /// <summary>The commands sent (the password masked) and the replies received, one line each, for the audit.</summary>
    public IReadOnlyList<string> Transcript => _transcript;

    /// <summary>Opens the control connection, reads the greeting and, with <see cref="FtpConnectionSettings.UseTls"/>, secures it.</summary>
    public static async Task<FtpClient> ConnectAsync(FtpConnectionSettings settings, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(settings.Host, settings.Port, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var client = new FtpClient(settings, socket);
        try
        {
            // 120: "service ready in nnn minutes", then the real greeting follows.
            var greeting = await client.ReadReplyAsync(cancellationToken).ConfigureAwait(false);
            while (greeting.IsPreliminary)
            {
                greeting = await client.ReadReplyAsync(cancellationToken).ConfigureAwait(false);
            }

            Expect("connect", greeting, 220);
            if (settings.UseTls)
            {
                await client.StartTlsAsync(cancellationToken).ConfigureAwait(false);
            }

            return client;
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>USER and PASS; with TLS, then PBSZ 0 and PROT P so the data connection is encrypted as well.</summary>
    public async Task LoginAsync(string user, string password, CancellationToken cancellationToken)
    {
        var reply = await CommandAsync("USER " + user, "USER " + user, cancellationToken).ConfigureAwait(false);
        if (reply.Code == 331)
        {
            reply = await CommandAsync("PASS " + password, "PASS ****", cancellationToken).ConfigureAwait(false);
        }

        // 332 (an account is needed) is not supported: ACCT is all but extinct.
        Expect("login", reply, 230, 202);
        if (_settings.UseTls)
        {
            Expect("PBSZ 0", await CommandAsync("PBSZ 0", cancellationToken).ConfigureAwait(false), 200);
            Expect("PROT P", await CommandAsync("PROT P", cancellationToken).ConfigureAwait(false), 200);
            _dataProtected = true;
        }
    }

    /// <summary>
    /// Stores <paramref name="content"/> as <paramref name="path"/> (STOR replaces a file of that name) in binary
    /// mode over a passive data connection, and answers the server's final reply (226 or 250).
    /// </summary>
    public async Task<FtpReply> UploadAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        Expect("TYPE I", await CommandAsync("TYPE I", cancellationToken).ConfigureAwait(false), 200);
        var dataEndPoint = await EnterPassiveModeAsync(cancellationToken).ConfigureAwait(false);
        using var dataSocket = new Socket(dataEndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await dataSocket.ConnectAsync(dataEndPoint, cancellationToken).ConfigureAwait(false);
        await using var dataStream = new NetworkStream(dataSocket, ownsSocket: false);
        SslStream? secureData = null;
        try
        {
            var command = "STOR " + path;
            await SendAsync(command, command, cancellationToken).ConfigureAwait(false);
            // Servers differ in when they accept the data connection's TLS handshake (before or after the 150),
            // so the handshake runs beside the wait for the preliminary reply.
            Task handshake = Task.CompletedTask;
            if (_dataProtected)
            {
                secureData = new SslStream(dataStream, leaveInnerStreamOpen: true);
                handshake = secureData.AuthenticateAsClientAsync(TlsOptions(), cancellationToken);
            }

            var reply = await ReadReplyAsync(cancellationToken).ConfigureAwait(false);
            if (!reply.IsPreliminary)
            {
                ObserveAndForget(handshake);
                throw new FtpReplyException(command, reply);
            }

            await handshake.ConfigureAwait(false);
            Stream target = secureData is null ? dataStream : secureData;
            await target.WriteAsync(content, cancellationToken).ConfigureAwait(false);
            await target.FlushAsync(cancellationToken).ConfigureAwait(false);
            if (secureData is not null)
            {
                await secureData.ShutdownAsync().ConfigureAwait(false);
            }

            // End of file is the end of the data connection (stream mode).
            dataSocket.Shutdown(SocketShutdown.Send);
            var final = await ReadReplyAsync(cancellationToken).ConfigureAwait(false);
            Expect(command, final, 226, 250);
            return final;
        }
        finally
        {
            if (secureData is not null)
            {
                await secureData.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>QUIT, as a courtesy: bounded by <paramref name="cancellationToken"/>, and no failure of it counts.</summary>
    public async Task QuitAsync(CancellationToken cancellationToken)
    {
        try
        {
            await CommandAsync("QUIT", cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or FtpProtocolException or ObjectDisposedException)
        {
            // The upload's outcome is already known.
        }
    }

    /// <summary>EPSV (RFC 2428), or PASV when the server refuses EPSV for good.</summary>
    private async Task<IPEndPoint> EnterPassiveModeAsync(CancellationToken cancellationToken)
    {
        var controlAddress = ((IPEndPoint)_socket.RemoteEndPoint!).Address;
        if (controlAddress.IsIPv4MappedToIPv6)
        {
            // The control socket is dual-mode; the data socket is made for the address's own family.
            controlAddress = controlAddress.MapToIPv4();
        }

        var reply = await CommandAsync("EPSV", cancellationToken).ConfigureAwait(false);
        if (reply.Code == 229)
        {
            return new IPEndPoint(controlAddress, ParseEpsvPort(reply));
        }

        // 500/502: EPSV unknown; 522: "use another network protocol". Any permanent refusal: try PASV instead.
        if (reply.Code is < 500 or >= 600)
        {
            throw new FtpReplyException("EPSV", reply);
        }

        reply = await CommandAsync("PASV", cancellationToken).ConfigureAwait(false);
        Expect("PASV", reply, 227);
        return new IPEndPoint(controlAddress, ParsePasvPort(reply));
    }

    /// <summary>The port of <c>229 Entering Extended Passive Mode (|||6446|)</c>.</summary>
    internal static int ParseEpsvPort(FtpReply reply)
    {
        var text = string.Join(' ', reply.Lines);
        var open = text.IndexOf('(', StringComparison.Ordinal);
        var close = open < 0 ? -1 : text.IndexOf(')', open);
        if (close - open >= 6)
        {
            var inner = text.AsSpan(open + 1, close - open - 1);
            var delimiter = inner[0];
            // <d><d><d><port><d>
            if (inner.Length >= 5 && inner[1] == delimiter && inner[2] == delimiter && inner[^1] == delimiter
                && int.TryParse(inner[3..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and <= 65535)
            {
                return port;
            }
        }

        throw new FtpProtocolException($"The EPSV reply names no port ({reply}).");
    }

    /// <summary>The port of <c>227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)</c>; the address is not used.</summary>
    internal static int ParsePasvPort(FtpReply reply)
    {
        var match = PasvNumbers().Match(string.Join(' ', reply.Lines));
        if (match.Success)
        {
            var numbers = Enumerable.Range(1, 6).Select(i => int.Parse(match.Groups[i].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture)).ToArray();
            if (numbers.All(n => n <= 255))
            {
                var port = (numbers[4] * 256) + numbers[5];
                if (port > 0)
                {
                    return port;
                }
            }
        }

        throw new FtpProtocolException($"The PASV reply names no address ({reply}).");
    }

    [GeneratedRegex(@"(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3})", RegexOptions.CultureInvariant)]
    private static partial Regex PasvNumbers();

    private async Task StartTlsAsync(CancellationToken cancellationToken)
    {
        Expect("AUTH TLS", await CommandAsync("AUTH TLS", cancellationToken).ConfigureAwait(false), 234);
        if (_reader.HasBufferedBytes)
        {
            // Bytes after 234 and before the handshake would be plain text injected into the secured session.
            throw new FtpProtocolException("The server sent more after accepting AUTH TLS.");
        }

        var secure = new SslStream(_stream, leaveInnerStreamOpen: false);
        await secure.AuthenticateAsClientAsync(TlsOptions(), cancellationToken).ConfigureAwait(false);
        _stream = secure;
        _reader.Stream = secure;
    }

    private SslClientAuthenticationOptions TlsOptions() => new()
    {
        TargetHost = _settings.Host,
        RemoteCertificateValidationCallback = _settings.CertificateValidation,
    };

    private Task<FtpReply> CommandAsync(string command, CancellationToken cancellationToken) =>
        CommandAsync(command, command, cancellationToken);

    /// <param name="shown">The command as it may appear in the transcript (the password masked).</param>
    private async Task<FtpReply> CommandAsync(string command, string shown, CancellationToken cancellationToken)
    {
        await SendAsync(command, shown, cancellationToken).ConfigureAwait(false);
        return await ReadReplyAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task SendAsync(string command, string shown, CancellationToken cancellationToken)
    {
        // A CR or LF inside an argument would end the command early and smuggle in another one.
        if (command.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0)
        {
            throw new ArgumentException("An FTP command must not contain CR, LF or NUL.", nameof(command));
        }

        Record("> " + shown);
        var bytes = Encoding.UTF8.GetBytes(command + "\r\n");
        await _stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
        await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<FtpReply> ReadReplyAsync(CancellationToken cancellationToken)
    {
        var reply = await _reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        Record("< " + reply);
        return reply;
    }

    private void Record(string line)
    {
        if (_transcript.Count < MaxTranscriptLines)
        {
            _transcript.Add(line.Length > 200 ? line[..200] + "…" : line);
        }
    }

    private static void Expect(string command, FtpReply reply, params int[] codes)
    {
        if (!codes.Contains(reply.Code))
        {
            throw new FtpReplyException(command, reply);
        }
    }

    private static void ObserveAndForget(Task task) =>
        task.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync().ConfigureAwait(false);
        _socket.Dispose();
    }
}
