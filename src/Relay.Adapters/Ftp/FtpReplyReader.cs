using System.Globalization;
using Relay.Core.Delivery;

namespace Relay.Adapters.Ftp;

/// <summary>
/// Reads FTP replies (RFC 959 §4.2) from the control connection: <c>NNN text</c>, or a multi-line reply from
/// <c>NNN-first</c> to <c>NNN last</c>. A reply larger than the limit is a protocol error rather than
/// something to buffer without end: a broken or hostile server cannot make the silo hold more than that.
/// </summary>
internal sealed class FtpReplyReader(Stream stream, int maxReplyBytes)
{
    private readonly byte[] _buffer = new byte[4096];
    private int _start;
    private int _end;
    private int _replyBytes;

    /// <summary>The stream replies are read from; replaced by the TLS stream after <c>AUTH TLS</c>.</summary>
    public Stream Stream { get; set; } = stream;

    /// <summary>Bytes read from the stream but not yet consumed by a reply.</summary>
    public bool HasBufferedBytes => _end > _start;

    public async Task<FtpReply> ReadAsync(CancellationToken cancellationToken)
    {
        _replyBytes = 0;
        var first = await ReadLineAsync(cancellationToken).ConfigureAwait(false);
        var code = ParseCode(first) ?? throw new FtpProtocolException($"The server sent a line that is not an FTP reply ({Describe(first)}).");
        var lines = new List<string>();
        if (first.Length == 3 || first[3] == ' ')
        {
            lines.Add(first.Length > 4 ? first[4..] : "");
            return new FtpReply(code, lines);
        }

        if (first[3] != '-')
        {
            throw new FtpProtocolException($"The server sent a line that is not an FTP reply ({Describe(first)}).");
        }

        lines.Add(first[4..]);
        while (true)
        {
            var line = await ReadLineAsync(cancellationToken).ConfigureAwait(false);
            // The reply ends at the first line that starts with the same code and a space (RFC 959 §4.2).
            if (ParseCode(line) == code && (line.Length == 3 || line[3] == ' '))
            {
                lines.Add(line.Length > 4 ? line[4..] : "");
                return new FtpReply(code, lines);
            }

            lines.Add(ParseCode(line) == code && line[3] == '-' ? line[4..] : line);
        }
    }

    private static int? ParseCode(string line)
    {
        if (line.Length < 3 || !char.IsAsciiDigit(line[0]) || !char.IsAsciiDigit(line[1]) || !char.IsAsciiDigit(line[2]))
        {
            return null;
        }

        var code = int.Parse(line.AsSpan(0, 3), NumberStyles.None, CultureInfo.InvariantCulture);
        return code is >= 100 and < 600 ? code : null;
    }

    /// <summary>One line without its CRLF (a bare LF is taken as well), decoded as UTF-8 (RFC 2640) into <see cref="ResponseText"/>.</summary>
    private async Task<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        using var line = new MemoryStream();
        while (true)
        {
            if (_start == _end)
            {
                _start = 0;
                _end = await Stream.ReadAsync(_buffer, cancellationToken).ConfigureAwait(false);
                if (_end == 0)
                {
                    throw new FtpConnectionClosedException();
                }
            }

            var span = _buffer.AsSpan(_start, _end - _start);
            var newline = span.IndexOf((byte)'\n');
            var take = newline < 0 ? span.Length : newline + 1;
            _replyBytes += take;
            if (_replyBytes > maxReplyBytes)
            {
                throw new FtpProtocolException($"The server's reply is longer than {maxReplyBytes} bytes.");
            }

            line.Write(span[..(newline < 0 ? take : newline)]);
            _start += take;
            if (newline >= 0)
            {
                var bytes = line.GetBuffer().AsSpan(0, (int)line.Length);
                if (bytes.Length > 0 && bytes[^1] == '\r')
                {
                    bytes = bytes[..^1];
                }

                return ResponseText.FromBytes(bytes);
            }
        }
    }

    private static string Describe(string line) =>
        line.Length == 0 ? "an empty line" : $"'{(line.Length > 40 ? line[..40] + "…" : line)}'";
}
