namespace Relay.Adapters.Tests.Servers;

/// <summary>
/// A real FTP server (pyftpdlib, Debian's python3-pyftpdlib; see ftp_server.py) on a free port of 127.0.0.1 with a
/// temporary root holding the folders <c>inbox</c> (writable), <c>readonly</c> (STOR gets 550) and <c>public</c>
/// (the anonymous user's root). With a certificate it requires explicit TLS.
/// </summary>
internal sealed class FtpTestServer : IAsyncDisposable
{
    public const string User = "relay";
    public const string Password = "s3cret-ftp-Pa55";

    private readonly ServerProcess _process;
    private readonly string _folder;

    private FtpTestServer(string folder, ServerProcess process, TestCertificate? certificate)
    {
        _folder = folder;
        _process = process;
        Certificate = certificate;
    }

    public string Root => Path.Combine(_folder, "root");

    public int Port => _process.Port;

    public TestCertificate? Certificate { get; }

    public static async Task<FtpTestServer> StartAsync(bool tls = false)
    {
        var folder = TempFolder.Create("relay-ftp-");
        var root = Path.Combine(folder, "root");
        Directory.CreateDirectory(root);
        var certificate = tls ? TestCertificate.Create(folder) : null;
        var port = Ports.Free();
        List<string> arguments =
        [
            Path.Combine(AppContext.BaseDirectory, "Servers", "ftp_server.py"),
            "--port", port.ToString(CultureInfo.InvariantCulture), "--root", root, "--user", User, "--password", Password,
        ];
        if (certificate is not null)
        {
            arguments.AddRange(["--cert", certificate.CertificatePath, "--key", certificate.KeyPath]);
        }

        var process = new ServerProcess("FTP server", "/usr/bin/python3", arguments, port,
            "install Debian's python3-pyftpdlib and python3-openssl (test.sh does)");
        var server = new FtpTestServer(folder, process, certificate);
        try
        {
            await process.StartAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>The address of a folder of the server, as a destination's <c>Address</c>.</summary>
    public string Url(string folder) => $"ftp://127.0.0.1:{Port}/{folder}/";

    /// <summary>The names of the files in a folder, sorted.</summary>
    public string[] Files(string folder) =>
        Directory.GetFiles(Path.Combine(Root, folder)).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;

    public byte[] Read(string folder, string name) => File.ReadAllBytes(Path.Combine(Root, folder, name));

    public void Write(string folder, string name, string content) => File.WriteAllText(Path.Combine(Root, folder, name), content);

    public Task StopAsync() => _process.StopAsync();

    public Task StartAgainAsync() => _process.StartAsync();

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        Certificate?.Dispose();
        TempFolder.Delete(_folder);
    }
}
