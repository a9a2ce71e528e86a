using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Relay.Testing;

/// <summary>
/// A throw-away certificate authority made in the test (ECDSA P-256, a day of validity), issuing certificates for
/// 127.0.0.1 and localhost as PEM files in a temporary folder, the way an operator's files (or run-cluster.sh's) look.
/// </summary>
public sealed class TestCertificateAuthority : IDisposable
{
    private readonly X509Certificate2 _certificate;

    private TestCertificateAuthority(string name, X509Certificate2 certificate, string folder)
    {
        Name = name;
        _certificate = certificate;
        Folder = folder;
        CaPath = Path.Combine(folder, "ca.pem");
        File.WriteAllText(CaPath, certificate.ExportCertificatePem());
    }

    public string Name { get; }

    /// <summary>Where the CA's certificate and every issued certificate and key are written.</summary>
    public string Folder { get; }

    /// <summary>The CA's certificate (PEM), as <c>Relay:Cluster:Tls:CaPath</c> takes it.</summary>
    public string CaPath { get; }

    public X509Certificate2 Certificate => _certificate;

    public static TestCertificateAuthority Create(string name)
    {
        var folder = Path.Combine(Path.GetTempPath(), "relay-tests", "ca-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        var now = DateTimeOffset.UtcNow;
        var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));
        return new TestCertificateAuthority(name, certificate, folder);
    }

    /// <summary>
    /// A certificate for <paramref name="subject"/> (127.0.0.1 and localhost), fit to accept connections and to make
    /// them (serverAuth and clientAuth), written as <c>{name}.pem</c> and <c>{name}.key</c>.
    /// </summary>
    public IssuedCertificate Issue(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={subject}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyAgreement, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], critical: false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        var now = DateTimeOffset.UtcNow;
        using var issued = request.Create(_certificate, now.AddMinutes(-5), now.AddHours(12), serial);
        var name = subject.Replace(' ', '-');
        var certificatePath = Path.Combine(Folder, name + ".pem");
        var keyPath = Path.Combine(Folder, name + ".key");
        File.WriteAllText(certificatePath, issued.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return new IssuedCertificate(certificatePath, keyPath);
    }

    public void Dispose()
    {
        _certificate.Dispose();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // Left to the OS's temp cleaning.
        }
    }
}

/// <summary>A certificate and its private key, as PEM files.</summary>
public sealed record IssuedCertificate(string CertificatePath, string KeyPath)
{
    /// <summary>Loaded with its key, as the silo loads it.</summary>
    public X509Certificate2 Load() => X509Certificate2.CreateFromPemFile(CertificatePath, KeyPath);
}
