using System.Text.Json;
using MimeKit;

namespace Relay.Adapters.Tests.Servers;

/// <summary>
/// A real SMTP server (aiosmtpd, Debian's python3-aiosmtpd; see smtp_server.py) on a free port of 127.0.0.1 that
/// keeps every accepted mail as a file. Recipients <c>reject*@</c> get 550, <c>busy*@</c> 451, and the first mail
/// to a <c>flaky*@</c> recipient is stored and then answered 451.
/// </summary>
internal sealed class SmtpTestServer : IAsyncDisposable
{
    public const string User = "relay";
    public const string Password = "s3cret-smtp-Pa55";

    private readonly ServerProcess _process;
    private readonly string _folder;

    private SmtpTestServer(string folder, ServerProcess process, TestCertificate? certificate)
    {
        _folder = folder;
        _process = process;
        Certificate = certificate;
    }

    public int Port => _process.Port;

    public string Address => $"smtp://127.0.0.1:{Port}";

    public TestCertificate? Certificate { get; }

    private string MailFolder => Path.Combine(_folder, "mail");

    public static async Task<SmtpTestServer> StartAsync(bool tls = false)
    {
        var folder = TempFolder.Create("relay-smtp-");
        var certificate = tls ? TestCertificate.Create(folder) : null;
        var port = Ports.Free();
        List<string> arguments =
        [
            Path.Combine(AppContext.BaseDirectory, "Servers", "smtp_server.py"),
            "--port", port.ToString(CultureInfo.InvariantCulture), "--folder", Path.Combine(folder, "mail"),
            "--user", User, "--password", Password,
        ];
        if (certificate is not null)
        {
            arguments.AddRange(["--cert", certificate.CertificatePath, "--key", certificate.KeyPath]);
        }

        var process = new ServerProcess("SMTP server", "/usr/bin/python3", arguments, port, "install Debian's python3-aiosmtpd (test.sh does)");
        var server = new SmtpTestServer(folder, process, certificate);
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

    /// <summary>Every mail the server stored, oldest first.</summary>
    public IReadOnlyList<ReceivedMail> Mails()
    {
        if (!Directory.Exists(MailFolder))
        {
            return [];
        }

        return Directory.GetFiles(MailFolder, "*.eml")
            .Order(StringComparer.Ordinal)
            .Select(path =>
            {
                var raw = File.ReadAllBytes(path);
                using var envelope = JsonDocument.Parse(File.ReadAllBytes(Path.ChangeExtension(path, ".json")));
                var root = envelope.RootElement;
                return new ReceivedMail(
                    MimeMessage.Load(new MemoryStream(raw)),
                    raw,
                    root.GetProperty("mail_from").GetString()!,
                    root.GetProperty("rcpt_tos").EnumerateArray().Select(r => r.GetString()!).ToArray(),
                    root.GetProperty("login").GetString(),
                    root.GetProperty("tls").GetBoolean());
            })
            .ToArray();
    }

    public Task StopAsync() => _process.StopAsync();

    public Task StartAgainAsync() => _process.StartAsync();

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        Certificate?.Dispose();
        TempFolder.Delete(_folder);
    }
}

/// <summary>One mail as the server received it: the parsed message, its bytes, and its envelope.</summary>
internal sealed record ReceivedMail(MimeMessage Message, byte[] Raw, string MailFrom, string[] RcptTos, string? Login, bool Tls);
