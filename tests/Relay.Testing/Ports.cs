using System.Net;
using System.Net.Sockets;

namespace Relay.Testing;

public static class Ports
{
    private static readonly HashSet<int> Given = [];

    /// <summary>A TCP port free on 127.0.0.1 now, never given twice to this test run.</summary>
    public static int Free()
    {
        lock (Given)
        {
            while (true)
            {
                using var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                var port = ((IPEndPoint)listener.LocalEndpoint).Port;
                listener.Stop();
                if (Given.Add(port))
                {
                    return port;
                }
            }
        }
    }

    /// <summary>Whether something accepts TCP connections on 127.0.0.1:<paramref name="port"/> now (one try, at most 1 s).</summary>
    public static async Task<bool> AcceptsAsync(int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port).WaitAsync(TimeSpan.FromSeconds(1));
            return true;
        }
        catch (Exception ex) when (ex is SocketException or TimeoutException)
        {
            return false;
        }
    }
}
