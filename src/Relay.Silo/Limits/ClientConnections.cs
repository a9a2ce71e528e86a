using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Relay.Silo.Security;

namespace Relay.Silo.Limits;

/// <summary>
/// Counts the TCP connections each client address holds (<see cref="ClientLimitOptions.Connections"/>), as Kestrel's
/// connection middleware, before TLS and before any request: a client that opens connections and sends nothing is
/// counted too. Kestrel's own <c>MaxConcurrentConnections</c> is one count for everyone.
/// <para>
/// A connection beyond its address's limit is not closed at once, which a client would see as a network fault and
/// retry: it is marked, its first request is answered 429 (problem+json, <c>Retry-After</c>, <c>Connection: close</c>,
/// by <see cref="ClientLimitsExtensions"/>), and it is aborted if it is still open after <see cref="OverLimitGrace"/>.
/// It holds no place of its address meanwhile.
/// </para>
/// </summary>
internal sealed partial class ClientConnections(int limit, ForwardedHeadersOptions? proxies, TimeProvider time, ILogger<ClientConnections> logger)
{
    /// <summary>The key, in the connection's items, of a connection beyond its address's limit.</summary>
    public const string OverLimitItem = "relay.client-connections.over-limit";

    /// <summary>How long a connection beyond the limit may stay open to be answered.</summary>
    public static readonly TimeSpan OverLimitGrace = TimeSpan.FromSeconds(5);

    private readonly Dictionary<string, int> _open = new(StringComparer.Ordinal);

    private readonly Lock _lock = new();

    public int Limit => limit;

    /// <summary>Connections open now from <paramref name="client"/> (for tests).</summary>
    internal int OpenFrom(string client)
    {
        lock (_lock)
        {
            return _open.GetValueOrDefault(client);
        }
    }

    public async Task OnConnectionAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        var peer = (connection.RemoteEndPoint as IPEndPoint)?.Address;
        if (peer is null || ForwardedHeadersSettings.Trusts(proxies, peer))
        {
            await next(connection);
            return;
        }

        var client = ClientAddress.Of(peer);
        if (TryEnter(client))
        {
            try
            {
                await next(connection);
            }
            finally
            {
                Exit(client);
            }

            return;
        }

        Log.OverLimit(logger, client, limit);
        connection.Items[OverLimitItem] = true;
        using var served = new CancellationTokenSource();
        var serving = next(connection);
        var grace = Task.Delay(OverLimitGrace, time, served.Token);
        if (await Task.WhenAny(serving, grace) == grace)
        {
            connection.Abort(new ConnectionAbortedException("Too many connections from this address."));
        }

        await served.CancelAsync();
        await serving;
    }

    private bool TryEnter(string client)
    {
        lock (_lock)
        {
            var open = _open.GetValueOrDefault(client);
            if (open >= limit)
            {
                return false;
            }

            _open[client] = open + 1;
            return true;
        }
    }

    private void Exit(string client)
    {
        lock (_lock)
        {
            var open = _open.GetValueOrDefault(client) - 1;
            if (open <= 0)
            {
                _open.Remove(client);
            }
            else
            {
                _open[client] = open;
            }
        }
    }

    /// <summary>Whether this request came on a connection beyond its address's limit.</summary>
    public static bool IsOverLimit(HttpContext http) =>
        http.Features.Get<IConnectionItemsFeature>()?.Items.ContainsKey(OverLimitItem) == true;

    private static partial class Log
    {
        [LoggerMessage(EventId = 4201, Level = LogLevel.Debug,
            Message = "A connection from {Client} beyond its {Limit} connections is answered 429 and closed")]
        public static partial void OverLimit(ILogger logger, string client, int limit);
    }
}
