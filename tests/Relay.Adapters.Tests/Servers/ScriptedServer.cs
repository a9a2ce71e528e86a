using System.Net.Sockets;

namespace Relay.Adapters.Tests.Servers;

/// <summary>
/// A TCP server on 127.0.0.1 that plays one scripted conversation per connection: for the misbehaviours a real
/// server will not show on demand (silence, endless replies, odd codes).
/// </summary>
internal sealed class ScriptedServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private ScriptedServer(Func<ScriptedConnection, CancellationToken, Task> script)
    {
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _loop = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpClient client;
                try
                {
                    client = await _listener.AcceptTcpClientAsync(_stop.Token);
                }
                catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
                {
                    return;
                }

                _ = Task.Run(async () =>
                {
                    using (client)
                    {
                        try
                        {
                            await script(new ScriptedConnection(client.GetStream()), _stop.Token);
                        }
                        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
                        {
                            // The client went away, or the test ended.
                        }
                    }
                });
            }
        });
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public static ScriptedServer Start(Func<ScriptedConnection, CancellationToken, Task> script) => new(script);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _loop;
        _stop.Dispose();
    }
}

internal sealed class ScriptedConnection(NetworkStream stream)
{
    private readonly StreamReader _reader = new(stream, Encoding.UTF8);

    public Task SendAsync(string text, CancellationToken cancellationToken) =>
        stream.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken).AsTask();

    public async Task<string?> ReadLineAsync(CancellationToken cancellationToken) => await _reader.ReadLineAsync(cancellationToken);

    /// <summary>Bytes as they are (after what was sent as text, in order): for answers that are not valid text.</summary>
    public Task SendAsync(byte[] bytes, CancellationToken cancellationToken) =>
        stream.WriteAsync(bytes, cancellationToken).AsTask();

    /// <summary>Reads an HTTP/1.1 request to its end (headers, and a body of Content-Length ASCII characters).</summary>
    public async Task ReadHttpRequestAsync(CancellationToken cancellationToken)
    {
        var length = 0;
        while (await ReadLineAsync(cancellationToken) is { Length: > 0 } line)
        {
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            {
                length = int.Parse(line["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        var body = new char[length];
        var read = 0;
        while (read < length && await _reader.ReadAsync(body.AsMemory(read), cancellationToken) is > 0 and var n)
        {
            read += n;
        }
    }
}
