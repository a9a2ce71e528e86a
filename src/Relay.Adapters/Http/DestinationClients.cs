using System.Collections.Concurrent;

namespace Relay.Adapters.Http;

/// <summary>
/// The HTTP clients of the destinations with TLS settings of their own (<c>ClientCertificate</c>, <c>TrustedCaPath</c>):
/// one pooled handler per destination, since a handler's TLS options hold for all its connections. The files are read
/// through the <see cref="SecretReader"/> (again at most every <see cref="SecretReader.RereadInterval"/>); when their
/// content changes (a renewed certificate), the next attempt gets a new client. A replaced client is not disposed while
/// an attempt may still use it: its idle connections close by themselves (the handler's idle timeout).
/// </summary>
internal sealed class DestinationClients(HttpTransportOptions options, SecretReader secrets) : IDisposable
{
    private readonly ConcurrentDictionary<string, Client> _byDestination = new(StringComparer.Ordinal);
    private readonly ConcurrentBag<HttpClient> _replaced = [];

    /// <summary>The destination's own client, or null when it has no TLS settings (the shared client serves it).</summary>
    /// <exception cref="SecretUnavailableException">A file cannot be read.</exception>
    /// <exception cref="System.Security.Cryptography.CryptographicException">The certificate cannot be loaded.</exception>
    public HttpClient? For(string name, HttpTransportDestinationOptions destination)
    {
        if (destination.ClientCertificate is null && destination.TrustedCaPath is null)
        {
            return null;
        }

        var setting = $"Relay:Destinations:{name}";
        var certificate = destination.ClientCertificate is { Path: { } path } ? secrets.ReadFile(path, setting + ":ClientCertificate:Path") : null;
        var key = destination.ClientCertificate is { KeyPath: { Length: > 0 } keyPath } ? secrets.ReadFile(keyPath, setting + ":ClientCertificate:KeyPath") : null;
        var password = secrets.Resolve(destination.ClientCertificate?.Password, setting + ":ClientCertificate:Password");
        var ca = destination.TrustedCaPath is { } caPath ? secrets.ReadFile(caPath, setting + ":TrustedCaPath") : null;
        var files = new Files(certificate, key, password, ca);
        if (_byDestination.TryGetValue(name, out var known) && known.Files.SameAs(files))
        {
            return known.Http;
        }

        var clientCertificate = certificate is null ? null : ClientCertificates.Load(certificate, key, password);
        var cas = ca is null ? null : TrustedCa.Parse(ca, out _)
            ?? throw new SecretUnavailableException($"{setting}:TrustedCaPath '{destination.TrustedCaPath}' holds no PEM certificate");
        var http = HttpTransport.CreateClient(options.ConnectTimeout, options.PooledConnectionLifetime, TrustedCa.Options(clientCertificate, cas));
        var made = new Client(files, http);
        if (_byDestination.TryGetValue(name, out var previous))
        {
            if (!_byDestination.TryUpdate(name, made, previous))
            {
                http.Dispose();
                return _byDestination[name].Http;
            }

            _replaced.Add(previous.Http);
        }
        else if (!_byDestination.TryAdd(name, made))
        {
            http.Dispose();
            return _byDestination[name].Http;
        }

        return http;
    }

    public void Dispose()
    {
        foreach (var client in _byDestination.Values)
        {
            client.Http.Dispose();
        }

        foreach (var client in _replaced)
        {
            client.Dispose();
        }
    }

    private sealed record Client(Files Files, HttpClient Http);

    private sealed record Files(byte[]? Certificate, byte[]? Key, string? Password, byte[]? Ca)
    {
        public bool SameAs(Files other) =>
            Same(Certificate, other.Certificate) && Same(Key, other.Key) && Password == other.Password && Same(Ca, other.Ca);

        // The reader hands out the same array until the file is read again: most comparisons end at the reference.
        private static bool Same(byte[]? a, byte[]? b) => ReferenceEquals(a, b) || (a is not null && b is not null && a.AsSpan().SequenceEqual(b));
    }
}
