using Microsoft.Extensions.Configuration;
using Relay.Core.Options;
using Relay.Silo.Cluster;
using Relay.Testing;

namespace Relay.Silo.Tests;

/// <summary>When the cluster's ports get TLS, and what stops a silo at start-up instead of running open or refused by its peers.</summary>
public sealed class ClusterTlsConfigurationTests : IDisposable
{
    private readonly TestCertificateAuthority _ca = TestCertificateAuthority.Create("relay config CA");

    [Fact]
    public async Task A_cluster_beyond_loopback_without_certificates_refuses_to_start_with_exit_code_2()
    {
        // Stopped by the configuration check, before anything listens or connects (the database is never reached).
        await using var silo = SiloProcess.Start(SiloProcess.NewWorkingDirectory(),
            "--Relay:Storage:Provider=AdoNet", "--Relay:Storage:ConnectionString=Host=127.0.0.1;Port=1;Database=none",
            "--Relay:Cluster:AdvertisedIP=10.1.2.3");

        var exitCode = await silo.ExitCodeOrReadyAsync();

        Assert.True(exitCode == 2, $"Exit code {exitCode}, expected 2.{Environment.NewLine}{silo}");
        Assert.Contains(silo.StandardError.Split(Environment.NewLine), line =>
            line.Contains("Relay:Cluster:AdvertisedIP is 10.1.2.3", StringComparison.Ordinal)
            && line.Contains("Relay:Cluster:Tls:CertificatePath", StringComparison.Ordinal)
            && line.Contains("Relay:Cluster:Tls:Enabled=false", StringComparison.Ordinal));
    }

    [Fact]
    public void Beyond_loopback_TLS_is_on_by_default_and_off_only_when_said_so_with_the_ports_reported_open()
    {
        var silo = _ca.Issue("silo");

        var (on, problems) = Load(Beyond(), ("CertificatePath", silo.CertificatePath), ("KeyPath", silo.KeyPath), ("CaPath", _ca.CaPath));
        Assert.Empty(problems);
        Assert.True(on!.Enabled);

        var (off, none) = Load(Beyond(), ("Enabled", "false"));
        Assert.Empty(none);
        Assert.False(off!.Enabled);
        Assert.True(off.OpenBeyondLoopback);
    }

    [Fact]
    public void On_loopback_TLS_is_off_unless_enabled_or_a_certificate_is_given()
    {
        var silo = _ca.Issue("silo");

        Assert.False(Load(new RelayOptions()).Tls!.Enabled);
        Assert.False(Load(new RelayOptions()).Tls!.OpenBeyondLoopback);
        Assert.True(Load(new RelayOptions(), ("CertificatePath", silo.CertificatePath), ("KeyPath", silo.KeyPath), ("CaPath", _ca.CaPath)).Tls!.Enabled);
        var (_, problems) = Load(new RelayOptions(), ("Enabled", "true"));
        Assert.Contains(problems, p => p.StartsWith("Relay:Cluster:Tls:CertificatePath is not set", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Relay:Cluster:Tls:CaPath is not set", StringComparison.Ordinal));
    }

    [Fact]
    public void A_certificate_the_other_silos_would_refuse_stops_the_silo_at_start_up()
    {
        using var stranger = TestCertificateAuthority.Create("another CA");
        var foreign = stranger.Issue("foreign");
        var own = _ca.Issue("own");

        var (_, notOurs) = Load(Beyond(), ("CertificatePath", foreign.CertificatePath), ("KeyPath", foreign.KeyPath), ("CaPath", _ca.CaPath));
        var (_, noKey) = Load(Beyond(), ("CertificatePath", own.CertificatePath), ("CaPath", _ca.CaPath));
        var (_, missing) = Load(Beyond(), ("CertificatePath", own.CertificatePath + ".gone"), ("KeyPath", own.KeyPath), ("CaPath", _ca.CaPath));

        Assert.Contains(notOurs, p => p.Contains("does not chain to the CA in Relay:Cluster:Tls:CaPath", StringComparison.Ordinal));
        Assert.Contains(noKey, p => p.StartsWith("Relay:Cluster:Tls:CertificatePath:", StringComparison.Ordinal));
        Assert.Contains(missing, p => p.Contains("does not exist", StringComparison.Ordinal));
    }

    [Fact]
    public void A_PKCS12_certificate_is_read_with_its_password_and_refused_with_a_wrong_one()
    {
        var own = _ca.Issue("own");
        var pfx = Path.Combine(_ca.Folder, "own.pfx");
        using (var certificate = own.Load())
        {
            File.WriteAllBytes(pfx, certificate.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pkcs12, "right-password"));
        }

        var (tls, problems) = Load(Beyond(), ("CertificatePath", pfx), ("Password", "right-password"), ("CaPath", _ca.CaPath));
        var (_, wrong) = Load(Beyond(), ("CertificatePath", pfx), ("Password", "wrong-password"), ("CaPath", _ca.CaPath));

        Assert.Empty(problems);
        Assert.True(tls!.Enabled);
        Assert.True(tls.Certificate!.HasPrivateKey);
        var problem = Assert.Single(wrong);
        Assert.StartsWith("Relay:Cluster:Tls:CertificatePath:", problem, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-password", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_password_never_appears_in_a_problem()
    {
        var own = _ca.Issue("own");

        // A PEM key that is not encrypted, read with a password: the loader complains; the password must not show.
        var (_, problems) = Load(Beyond(), ("CertificatePath", own.CertificatePath), ("KeyPath", own.KeyPath), ("CaPath", _ca.CaPath),
            ("Password", "hunter2-secret"));

        Assert.NotEmpty(problems);
        Assert.DoesNotContain(problems, p => p.Contains("hunter2-secret", StringComparison.Ordinal));
    }

    private static RelayOptions Beyond() => new()
    {
        Storage = { Provider = "AdoNet", ConnectionString = "Host=127.0.0.1" },
        Cluster = { AdvertisedIP = "10.1.2.3" },
    };

    private static (ClusterTls? Tls, IReadOnlyList<string> Problems) Load(RelayOptions relay, params (string Key, string Value)[] tls)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(tls.Select(t => KeyValuePair.Create<string, string?>($"{ClusterTlsOptions.SectionName}:{t.Key}", t.Value)))
            .Build();
        return ClusterTls.Load(configuration.GetSection(ClusterTlsOptions.SectionName), relay);
    }

    public void Dispose() => _ca.Dispose();
}
