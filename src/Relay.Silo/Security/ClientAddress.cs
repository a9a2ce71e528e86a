using System.Net;
using System.Net.Sockets;

namespace Relay.Silo.Security;

/// <summary>
/// The address a per-client limit counts by: an IPv4 address as it is (an IPv4 address mapped to IPv6 counts as
/// IPv4), an IPv6 address by its /64 network, since one host usually holds a whole /64 and could otherwise step to a
/// fresh address for every request.
/// </summary>
internal static class ClientAddress
{
    public static string Of(IPAddress? address)
    {
        if (address is null)
        {
            // Not a TCP connection (a test server, a named pipe): one client.
            return "-";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6 || IPAddress.IsLoopback(address))
        {
            return address.ToString();
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes).ToString() + "/64";
    }
}
