using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Relay.Adapters.Ldap;

/// <summary>
/// A destination's <c>TrustedCaPath</c> (a PEM file with one or more CA certificates) as libldap takes it: a directory
/// of CA files (<c>LDAP_OPT_X_TLS_CACERTDIR</c>, which System.DirectoryServices.Protocols offers on Linux as
/// <c>TrustedCertificatesDirectory</c>), for that one connection's new TLS context. Each distinct content gets its own
/// directory inside a private folder of this process (mode 700), so a CA changed on disk takes effect at the next attempt.
/// Debian's libldap (GnuTLS) reads every file of the directory. (A libldap built with OpenSSL would look certificates up
/// by subject hash, which these file names are not: Debian's is the one the project runs on.)
/// </summary>
internal sealed class LdapTrustedCa : IDisposable
{
    private readonly ConcurrentDictionary<string, string> _directories = new(StringComparer.Ordinal);
    private readonly Lazy<DirectoryInfo> _root = new(() => Directory.CreateTempSubdirectory("relay-ldap-ca-"));

    /// <summary>The directory for the CA file at <paramref name="path"/>; false with a problem (no content) when it cannot be read.</summary>
    public bool TryDirectory(string path, out string directory, out string problem)
    {
        directory = "";
        byte[] pem;
        try
        {
            pem = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            problem = $"cannot be read ({ex.GetType().Name})";
            return false;
        }

        var key = Convert.ToHexString(SHA256.HashData(pem));
        if (_directories.TryGetValue(key, out var known))
        {
            directory = known;
            problem = "";
            return true;
        }

        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPem(System.Text.Encoding.ASCII.GetString(pem));
        }
        catch (CryptographicException)
        {
            problem = "is not a PEM file of certificates";
            return false;
        }

        if (certificates.Count == 0)
        {
            problem = "holds no PEM certificate";
            return false;
        }

        var folder = Path.Combine(_root.Value.FullName, key[..16]);
        Directory.CreateDirectory(folder);
        for (var i = 0; i < certificates.Count; i++)
        {
            File.WriteAllText(Path.Combine(folder, $"ca{i}.pem"), certificates[i].ExportCertificatePem() + "\n");
        }

        directory = _directories.GetOrAdd(key, folder);
        problem = "";
        return true;
    }

    public void Dispose()
    {
        if (_root.IsValueCreated)
        {
            try
            {
                _root.Value.Delete(recursive: true);
            }
            catch (IOException)
            {
                // A connection may still read it; the temporary folder is the system's to clean then.
            }
        }
    }
}
