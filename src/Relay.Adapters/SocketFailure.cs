using System.Net.Sockets;

namespace Relay.Adapters;

/// <summary>How every adapter words a failure to reach its destination: <c>Connection refused</c>, <c>Host not found</c>...</summary>
internal static class SocketFailure
{
    /// <summary>The socket error of <paramref name="ex"/> or of the exceptions inside it, worded; null when there is none.</summary>
    public static string? Describe(Exception? ex)
    {
        for (var depth = 0; ex is not null && depth < 3; depth++, ex = ex.InnerException)
        {
            if (ex is SocketException socket)
            {
                return socket.SocketErrorCode switch
                {
                    SocketError.ConnectionRefused => "Connection refused",
                    SocketError.ConnectionReset => "Connection reset",
                    SocketError.ConnectionAborted => "Connection aborted",
                    SocketError.TimedOut => "Connection timed out",
                    SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "Host not found",
                    SocketError.HostUnreachable or SocketError.NetworkUnreachable => "Host unreachable",
                    var code => $"Socket error: {code}",
                };
            }
        }

        return null;
    }
}
