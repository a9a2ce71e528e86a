using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Relay.Adapters.Tests.Servers;

/// <summary>A self-signed server certificate for 127.0.0.1, written as PEM files for the test servers.</summary>
internal sealed class TestCertificate : IDisposable
{
    private TestCertificate(X509Certificate2 certificate, string certificatePath, string keyPath)
    {
        Certificate = certificate;
        CertificatePath = certificatePath;
        KeyPath = keyPath;
    }

    public X509Certificate2 Certificate { get; }

    public string CertificatePath { get; }

    public string KeyPath { get; }

    /// <summary>Accepts exactly this certificate: what an operator's private trust would do, and nothing more.</summary>
    public RemoteCertificateValidationCallback TrustThisOne =>
        (_, certificate, _, _) => certificate is not null && certificate.GetRawCertData().AsSpan().SequenceEqual(Certificate.RawData);

    public static TestCertificate Create(string folder)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        var now = TimeProvider.System.GetUtcNow();
        var certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(1));
        var certificatePath = Path.Combine(folder, "server.crt");
        var keyPath = Path.Combine(folder, "server.key");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return new TestCertificate(certificate, certificatePath, keyPath);
    }

    public void Dispose() => Certificate.Dispose();
}
