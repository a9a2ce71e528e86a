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
}
