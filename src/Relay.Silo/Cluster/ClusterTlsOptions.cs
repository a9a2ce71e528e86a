namespace Relay.Silo.Cluster;

/// <summary>
/// <c>Relay:Cluster:Tls</c>: mutual TLS on the cluster's own ports (silo-to-silo and the Orleans gateway). Whoever
/// reaches those ports without a certificate issued by the cluster's CA is refused at the handshake; with them open, an
/// Orleans client could call any grain (read a payload, resubmit, discard) without any API key.
/// </summary>
public sealed class ClusterTlsOptions
{
    public const string SectionName = "Relay:Cluster:Tls";

    /// <summary>
    /// Unset (the default): on when the cluster is not on loopback (an <c>AdoNet</c> cluster whose <c>AdvertisedIP</c> is
    /// not a loopback address) or when a certificate is configured. <c>true</c>: on, also on loopback. <c>false</c>: off,
    /// with a warning at start-up when the ports are reachable from other machines.
    /// </summary>
    public bool? Enabled { get; set; }

    /// <summary>
    /// This silo's certificate: a PEM file (the key in <see cref="KeyPath"/>, or after the certificate in the same file)
    /// or a PKCS#12 file (<c>.pfx</c>, <c>.p12</c>) with its key inside. It serves both ways (it accepts connections and
    /// makes them): an Extended Key Usage, when present, must include both serverAuth and clientAuth.
    /// </summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PEM private key of <see cref="CertificatePath"/>; unset when the key is in the certificate's file.</summary>
    public string? KeyPath { get; set; }

    /// <summary>The password of a PKCS#12 file or of an encrypted PEM key. A secret: never logged nor shown in an error.</summary>
    public string? Password { get; set; }

    /// <summary>
    /// A PEM file with the certificate of the cluster's CA (and its intermediates, if any): a peer's certificate must chain
    /// to it, whatever its name. Operating systems' trusted roots count for nothing here.
    /// </summary>
    public string? CaPath { get; set; }
}
