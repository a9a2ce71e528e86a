using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Relay.Core.Options;

namespace Relay.Silo.Cluster;

/// <summary>
/// What the configuration decides for the cluster's ports, read and checked before anything starts: TLS on (with this
/// silo's certificate and the CA peers must chain to), or off (and whether that leaves them open beyond this machine).
/// </summary>
public sealed class ClusterTls
{
    private const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuthentication = "1.3.6.1.5.5.7.3.2";

    private ClusterTls(X509Certificate2? certificate, X509Certificate2Collection authorities, bool onLoopback)
    {
        Certificate = certificate;
        Authorities = authorities;
        OnLoopback = onLoopback;
    }

    /// <summary>This silo's certificate, with its private key; null when TLS is off.</summary>
    public X509Certificate2? Certificate { get; }

    /// <summary>The CA (and intermediates) a peer's certificate must chain to; empty when TLS is off.</summary>
    public X509Certificate2Collection Authorities { get; }

    public bool Enabled => Certificate is not null;

    /// <summary>Whether the silo and gateway ports listen on loopback only (one machine).</summary>
    public bool OnLoopback { get; }

    /// <summary>TLS is off and the ports listen beyond loopback: anyone who reaches them is in.</summary>
    public bool OpenBeyondLoopback => !Enabled && !OnLoopback;

    /// <summary>
    /// Reads <c>Relay:Cluster:Tls</c>, loads the files and checks them (the certificate has its key, may serve both
    /// ways, and chains to the CA: a certificate the other silos would refuse stops this one at start-up instead).
    /// </summary>
    /// <returns>The decision, or the problems, one line each, by full key path; a password never appears.</returns>
    public static (ClusterTls? Tls, IReadOnlyList<string> Problems) Load(IConfigurationSection tls, RelayOptions relay)
    {
        ArgumentNullException.ThrowIfNull(tls);
        ArgumentNullException.ThrowIfNull(relay);
        var onLoopback = IsOnLoopback(relay);
        ClusterTlsOptions options;
        try
        {
            options = tls.Get<ClusterTlsOptions>() ?? new ClusterTlsOptions();
        }
        catch (InvalidOperationException)
        {
            return (null, [$"{tls.Path}:{nameof(ClusterTlsOptions.Enabled)} is '{tls[nameof(ClusterTlsOptions.Enabled)]}'; it must be true or false."]);
        }

        var enabled = options.Enabled ?? (!onLoopback || !string.IsNullOrEmpty(options.CertificatePath));
        if (!enabled)
        {
            return (new ClusterTls(null, [], onLoopback), []);
        }

        var problems = new List<string>();
        if (string.IsNullOrEmpty(options.CertificatePath) && string.IsNullOrEmpty(options.CaPath) && options.Enabled is null)
        {
            // On by default, and nothing configured: say why, and both ways out.
            problems.Add($"{RelayOptions.SectionName}:Cluster:AdvertisedIP is {relay.Cluster.AdvertisedIP}, not a loopback address, so the silo port "
                         + $"({relay.Cluster.SiloPort}) and the gateway port ({relay.Cluster.GatewayPort}) are reachable from other machines and need "
                         + $"mutual TLS: set {tls.Path}:{nameof(ClusterTlsOptions.CertificatePath)}, {nameof(ClusterTlsOptions.KeyPath)} and "
                         + $"{nameof(ClusterTlsOptions.CaPath)} (docs/OPERATIONS.md, \"TLS between silos\"), or {tls.Path}:{nameof(ClusterTlsOptions.Enabled)}=false "
                         + "to leave them open to anyone who reaches them.");
            return (null, problems);
        }

        var certificate = LoadCertificate(tls.Path, options, problems);
        var authorities = LoadAuthorities(tls.Path, options, problems);
        if (certificate is not null && authorities is not null)
        {
            CheckCertificate(tls.Path, certificate, authorities, problems);
        }

        return problems.Count > 0 || certificate is null || authorities is null
            ? (null, problems)
            : (new ClusterTls(certificate, authorities, onLoopback), []);
    }

    /// <summary>
    /// Whether <paramref name="peer"/> chains to one of the cluster's CAs, with the intermediates the peer presented.
    /// The host name is not checked: silos are reached by address and identified by the CA that issued their certificate.
    /// Revocation is not checked (a throw-away cluster CA publishes no revocation list): rotate the CA to cut a silo off.
    /// </summary>
    public bool AcceptsPeer(X509Certificate2 peer, X509Chain? presented) => ChainsTo(peer, presented, Authorities, out _);

    internal static bool ChainsTo(X509Certificate2 certificate, X509Chain? presented, X509Certificate2Collection authorities, out string status)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        foreach (var authority in authorities)
        {
            if (authority.SubjectName.RawData.AsSpan().SequenceEqual(authority.IssuerName.RawData))
            {
                chain.ChainPolicy.CustomTrustStore.Add(authority);
            }
            else
            {
                chain.ChainPolicy.ExtraStore.Add(authority);
            }
        }

        if (presented is not null)
        {
            foreach (var element in presented.ChainElements.Skip(1))
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }

            chain.ChainPolicy.ExtraStore.AddRange(presented.ChainPolicy.ExtraStore);
        }

        var built = chain.Build(certificate);
        status = built ? "" : string.Join(", ", chain.ChainStatus.Select(s => s.Status).Distinct());
        return built;
    }

    private static bool IsOnLoopback(RelayOptions relay) =>
        // The embedded storage runs one silo on localhost clustering; a cluster listens on every address unless it
        // advertises a loopback one (RelayHostExtensions).
        string.Equals(relay.Storage.Provider, "Sqlite", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(relay.Cluster.AdvertisedIP, out var advertised) && IPAddress.IsLoopback(advertised));

    private static X509Certificate2? LoadCertificate(string path, ClusterTlsOptions options, List<string> problems)
    {
        var key = $"{path}:{nameof(ClusterTlsOptions.CertificatePath)}";
        if (string.IsNullOrEmpty(options.CertificatePath))
        {
            problems.Add($"{key} is not set; TLS on the cluster ports needs this silo's certificate and key (docs/OPERATIONS.md, \"TLS between silos\").");
            return null;
        }

        var file = Path.GetFullPath(options.CertificatePath);
        if (!File.Exists(file))
        {
            problems.Add($"{key}: the file '{file}' does not exist.");
            return null;
        }

        string? keyFile = null;
        if (!string.IsNullOrEmpty(options.KeyPath))
        {
            keyFile = Path.GetFullPath(options.KeyPath);
            if (!File.Exists(keyFile))
            {
                problems.Add($"{path}:{nameof(ClusterTlsOptions.KeyPath)}: the file '{keyFile}' does not exist.");
                return null;
            }
        }

        X509Certificate2 certificate;
        try
        {
            certificate = IsPkcs12(file)
                ? X509CertificateLoader.LoadPkcs12FromFile(file, options.Password)
                : string.IsNullOrEmpty(options.Password)
                    ? X509Certificate2.CreateFromPemFile(file, keyFile)
                    : X509Certificate2.CreateFromEncryptedPemFile(file, options.Password, keyFile);
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException or IOException)
        {
            // The exception's message names no secret (it says what is wrong with the file).
            problems.Add($"{key}: '{file}' could not be read as a certificate with its private key (PEM with {nameof(ClusterTlsOptions.KeyPath)}, "
                         + $"or PKCS#12 with {nameof(ClusterTlsOptions.Password)}): {ex.Message}");
            return null;
        }

        if (!certificate.HasPrivateKey)
        {
            problems.Add($"{key}: '{file}' holds no private key; give it in {path}:{nameof(ClusterTlsOptions.KeyPath)}.");
            return null;
        }

        return certificate;
    }

    private static X509Certificate2Collection? LoadAuthorities(string path, ClusterTlsOptions options, List<string> problems)
    {
        var key = $"{path}:{nameof(ClusterTlsOptions.CaPath)}";
        if (string.IsNullOrEmpty(options.CaPath))
        {
            problems.Add($"{key} is not set; TLS on the cluster ports needs the CA (a PEM file) that the other silos' certificates chain to.");
            return null;
        }

        var file = Path.GetFullPath(options.CaPath);
        if (!File.Exists(file))
        {
            problems.Add($"{key}: the file '{file}' does not exist.");
            return null;
        }

        var authorities = new X509Certificate2Collection();
        try
        {
            authorities.ImportFromPemFile(file);
        }
        catch (CryptographicException ex)
        {
            problems.Add($"{key}: '{file}' could not be read as PEM certificates: {ex.Message}");
            return null;
        }

        if (authorities.Count == 0)
        {
            problems.Add($"{key}: '{file}' holds no certificate (expected PEM, -----BEGIN CERTIFICATE-----).");
            return null;
        }

        return authorities;
    }

    private static void CheckCertificate(string path, X509Certificate2 certificate, X509Certificate2Collection authorities, List<string> problems)
    {
        var key = $"{path}:{nameof(ClusterTlsOptions.CertificatePath)}";
        if (certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().FirstOrDefault() is { } usage)
        {
            var usages = usage.EnhancedKeyUsages.Cast<Oid>().Select(o => o.Value).ToHashSet(StringComparer.Ordinal);
            if (!usages.Contains(ServerAuthentication) || !usages.Contains(ClientAuthentication))
            {
                problems.Add($"{key}: the certificate {certificate.Subject} both accepts connections and makes them, so its Extended Key Usage "
                             + "must include serverAuth and clientAuth (or be absent).");
            }
        }

        if (!ChainsTo(certificate, null, authorities, out var status))
        {
            problems.Add($"{key}: the certificate {certificate.Subject} does not chain to the CA in {path}:{nameof(ClusterTlsOptions.CaPath)} ({status}); "
                         + "the other silos would refuse it.");
        }
    }

    private static bool IsPkcs12(string file) =>
        file.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || file.EndsWith(".p12", StringComparison.OrdinalIgnoreCase);
}
