using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Relay.Adapters.Http;

/// <summary>A destination's <c>ClientCertificate</c>, loaded from its PEM or PKCS#12 file(s).</summary>
internal static class ClientCertificates
{
    /// <exception cref="SecretUnavailableException">A file or the password's reference cannot be read.</exception>
    /// <exception cref="CryptographicException">The files are not a certificate with its key, or the password is wrong.</exception>
    public static X509Certificate2 Load(ClientCertificateOptions options, SecretReader reader, string setting)
    {
        var certificate = reader.ReadFile(options.Path!, setting + ":Path");
        var key = options.KeyPath is { Length: > 0 } keyPath ? reader.ReadFile(keyPath, setting + ":KeyPath") : null;
        var password = reader.Resolve(options.Password, setting + ":Password");
        return Load(certificate, key, password);
    }

    public static X509Certificate2 Load(byte[] certificate, byte[]? key, string? password)
    {
        if (IsPem(certificate))
        {
            var certificatePem = Encoding.ASCII.GetString(certificate);
            var keyPem = key is null ? certificatePem : Encoding.ASCII.GetString(key);
            return string.IsNullOrEmpty(password)
                ? X509Certificate2.CreateFromPem(certificatePem, keyPem)
                : X509Certificate2.CreateFromEncryptedPem(certificatePem, keyPem, password);
        }

        return X509CertificateLoader.LoadPkcs12(certificate, password, X509KeyStorageFlags.EphemeralKeySet);
    }

    private static bool IsPem(byte[] content) =>
        content.AsSpan().IndexOf("-----BEGIN "u8) >= 0;
}

/// <summary>A destination's <c>TrustedCaPath</c>: the CA certificates its server's certificate must chain to.</summary>
internal static class TrustedCa
{
    /// <summary>The certificates of the PEM file at <paramref name="path"/>, or null with a problem (the end of a sentence).</summary>
    public static X509Certificate2Collection? Load(string path, out string problem)
    {
        if (!SecretReader.TryReadFile(path, out var pem, out var unreadable))
        {
            problem = unreadable!;
            return null;
        }

        return Parse(pem, out problem);
    }

    public static X509Certificate2Collection? Parse(byte[] pem, out string problem)
    {
        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPem(Encoding.ASCII.GetString(pem));
        }
        catch (CryptographicException)
        {
            problem = "is not a PEM file of certificates";
            return null;
        }

        problem = certificates.Count == 0 ? "holds no PEM certificate" : "";
        return certificates.Count == 0 ? null : certificates;
    }

    /// <summary>
    /// The handshake's chain policy: the server's certificate must chain to one of <paramref name="cas"/> (not to the
    /// system's roots). Revocation is not checked: a private CA seldom publishes a reachable CRL or OCSP responder.
    /// </summary>
    public static X509ChainPolicy Policy(X509Certificate2Collection cas)
    {
        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
        };
        policy.CustomTrustStore.AddRange(cas);
        return policy;
    }

    /// <summary>The TLS options of a destination with a client certificate and/or a trusted CA.</summary>
    public static SslClientAuthenticationOptions Options(X509Certificate2? clientCertificate, X509Certificate2Collection? cas)
    {
        var ssl = new SslClientAuthenticationOptions();
        if (clientCertificate is not null)
        {
            // Presented whatever CAs the server says it accepts (some list none): the operator chose it for this destination.
            ssl.LocalCertificateSelectionCallback = (_, _, _, _, _) => clientCertificate;
        }

        if (cas is not null)
        {
            ssl.CertificateChainPolicy = Policy(cas);
        }

        return ssl;
    }
}
