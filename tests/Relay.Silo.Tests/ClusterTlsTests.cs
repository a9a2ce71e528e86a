using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans.Configuration;
using Orleans.Hosting;
using Relay.Grains.Delivery;
using Relay.Testing;

namespace Relay.Silo.Tests;

/// <summary>
/// Two real silo processes on a private PostgreSQL, with mutual TLS between them from certificates of one throw-away CA,
/// and whoever else tries the cluster's ports: an Orleans client (the open door of issue 15: it would read any payload
/// with no API key) and silos that hold no certificate, or one from another CA.
/// </summary>
public sealed class ClusterTlsTests(TlsClusterFixture cluster) : IClassFixture<TlsClusterFixture>
{
    [Fact]
    public async Task Two_silos_with_certificates_from_one_CA_form_a_cluster_and_serve_each_others_messages()
    {
        Assert.Equal(2, await cluster.ActiveSilosAsync());

        // A message's grains live on one silo or the other (by hash): whichever silo is asked reads it through the other
        // about half the time, over the TLS connection between them.
        for (var i = 0; i < 10; i++)
        {
            var id = $"formed-{i}";
            var sent = await cluster.Silos[i % 2].Client.PostAsJsonAsync("/messages", new { id, destination = "orders", payload = "p" });
            Assert.Equal(HttpStatusCode.Accepted, sent.StatusCode);
            using var read = await cluster.Silos[(i + 1) % 2].Client.GetAsync($"/messages/{id}");
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        }
    }

    [Fact]
    public async Task An_Orleans_client_with_a_certificate_from_the_cluster_CA_reaches_the_grains()
    {
        // The control: what the refused clients below would do, done by one that holds a certificate of the cluster.
        await cluster.SendAsync("control-1", "the payload");
        var client = cluster.Ca.Issue("operator tool");

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var connected = await OrleansClient.ConnectAsync(cluster.GatewayPort, cluster.ClusterId, client, cluster.Ca, deadline.Token);
        var content = await connected.Client.GetGrain<IDeliveryGrain>("orders/control-1").GetContent();

        Assert.Equal("the payload", Encoding.UTF8.GetString(content!.Payload));
    }

    [Fact]
    public async Task An_Orleans_client_without_a_certificate_is_refused_at_the_gateway()
    {
        await cluster.SendAsync("secret-1", "card 4111");

        var refusals = cluster.TlsRefusals();

        // Before issue 15 this client connected and read the payload, with no API key at all.
        var gotIn = await OrleansClient.GetsInAsync(token => OrleansClient.ConnectAsync(cluster.GatewayPort, cluster.ClusterId, null, null, token),
            client => client.GetGrain<IDeliveryGrain>("orders/secret-1").GetContent());

        Assert.Null(gotIn);
        await Eventually.Until(() => cluster.TlsRefusals() > refusals, what: "the gateway refused the TLS handshake");
    }

    [Fact]
    public async Task An_Orleans_client_with_a_certificate_from_another_CA_is_refused_at_the_gateway()
    {
        await cluster.SendAsync("secret-2", "card 4111");
        using var stranger = TestCertificateAuthority.Create("another CA");
        var certificate = stranger.Issue("intruder");

        var refusals = cluster.TlsRefusals();

        var gotIn = await OrleansClient.GetsInAsync(token => OrleansClient.ConnectAsync(cluster.GatewayPort, cluster.ClusterId, certificate, stranger, token),
            client => client.GetGrain<IDeliveryGrain>("orders/secret-2").GetContent());

        Assert.Null(gotIn);
        await Eventually.Until(() => cluster.TlsRefusals() > refusals, what: "the gateway refused the TLS handshake");
    }

    [Fact]
    public async Task A_silo_with_a_certificate_from_another_CA_cannot_join()
    {
        using var stranger = TestCertificateAuthority.Create("another CA");
        var certificate = stranger.Issue("stranger silo");

        await cluster.AssertCannotJoinAsync(
            "--Relay:Cluster:Tls:Enabled=true",
            $"--Relay:Cluster:Tls:CertificatePath={certificate.CertificatePath}",
            $"--Relay:Cluster:Tls:KeyPath={certificate.KeyPath}",
            $"--Relay:Cluster:Tls:CaPath={stranger.CaPath}");
    }

    [Fact]
    public async Task A_silo_without_a_certificate_cannot_join()
    {
        await cluster.AssertCannotJoinAsync("--Relay:Cluster:Tls:Enabled=false");
    }
}

/// <summary>Two silos with certificates from one CA, on a database of the shared PostgreSQL, and a destination that always fails.</summary>
public sealed class TlsClusterFixture : IAsyncLifetime
{
    private string _connectionString = "";

    public TestCertificateAuthority Ca { get; } = TestCertificateAuthority.Create("relay test cluster CA");

    public string ClusterId { get; } = "tls-" + Guid.NewGuid().ToString("N")[..8];

    public List<SiloProcess> Silos { get; } = [];

    /// <summary>The first silo's gateway port (the Orleans client port).</summary>
    public int GatewayPort { get; } = Ports.Free();

    public async Task InitializeAsync()
    {
        var postgres = await PostgresServer.Shared;
        _connectionString = await postgres.CreateDatabaseAsync();
        for (var i = 0; i < 2; i++)
        {
            var certificate = Ca.Issue($"silo {i}");
            var more = new List<string>
            {
                "--Relay:Cluster:Tls:Enabled=true",
                $"--Relay:Cluster:Tls:CertificatePath={certificate.CertificatePath}",
                $"--Relay:Cluster:Tls:KeyPath={certificate.KeyPath}",
                $"--Relay:Cluster:Tls:CaPath={Ca.CaPath}",
            };
            if (i == 0)
            {
                more.Add($"--Relay:Cluster:GatewayPort={GatewayPort}");
            }

            // One at a time: the first applies the schema; the second joins its cluster.
            Silos.Add(await SiloProcess.StartAsync(SiloProcess.NewWorkingDirectory(), Args(more.ToArray())));
        }
    }

    public string[] Args(params string[] more) =>
    [
        "--Relay:Storage:Provider=AdoNet",
        "--Relay:Storage:Invariant=Npgsql",
        $"--Relay:Storage:ConnectionString={_connectionString}",
        "--Relay:Storage:Migrate=true",
        "--Relay:Storage:MaxPoolSize=10",
        $"--Relay:Cluster:ClusterId={ClusterId}",
        "--Relay:Cluster:Membership:ProbeTimeout=00:00:01",
        "--Relay:Cluster:Membership:NumMissedProbesLimit=2",
        "--Relay:Cluster:Membership:TableRefreshTimeout=00:00:02",
        // Nothing listens there: every message waits in retry, its payload stored.
        "--Relay:Destinations:orders:Address=http://127.0.0.1:9/orders",
        "--Relay:Destinations:orders:SyncTimeout=00:00:01",
        "--Relay:Samples:Enabled=false",
        "--Logging:LogLevel:Default=Warning",
        .. more,
    ];

    public async Task SendAsync(string id, string payload)
    {
        using var response = await Silos[0].Client.PostAsJsonAsync("/messages", new { id, destination = "orders", payload });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    /// <summary>
    /// TLS handshakes the first silo (the gateway the clients try) has refused so far, as its log tells:
    /// Orleans's TLS middleware logs each failed authentication.
    /// </summary>
    public int TlsRefusals() => Silos[0].StandardOutput.Split(Environment.NewLine)
        .Count(line => line.Contains("TlsServerConnectionMiddleware", StringComparison.Ordinal));

    /// <summary>Silos the membership table holds as Active (Orleans's status 3).</summary>
    public async Task<long> ActiveSilosAsync()
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM orleansmembershiptable WHERE deploymentid = @cluster AND status = 3", connection);
        command.Parameters.AddWithValue("cluster", ClusterId);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>A third silo with <paramref name="tls"/> never becomes Ready, and the cluster stays the two it was.</summary>
    public async Task AssertCannotJoinAsync(params string[] tls)
    {
        await using var silo = SiloProcess.Start(SiloProcess.NewWorkingDirectory(), Args(tls));
        int? exitCode = null;
        try
        {
            exitCode = await silo.ExitCodeOrReadyAsync(TimeSpan.FromSeconds(90));
        }
        catch (TimeoutException)
        {
            // Neither ready nor gone in 90 s: not in the cluster either, which the assertions below check.
        }

        Assert.True(exitCode is not null, $"The silo joined and is Ready.{Environment.NewLine}{silo}");
        Assert.NotEqual(0, exitCode);
        Assert.Equal(2, await ActiveSilosAsync());
    }

    public async Task DisposeAsync()
    {
        foreach (var silo in Silos)
        {
            await silo.DisposeAsync();
        }

        Ca.Dispose();
    }
}

/// <summary>An Orleans client in this process, the way an intruder would connect one: the gateway's address and the cluster id.</summary>
internal sealed class OrleansClient : IAsyncDisposable
{
    private readonly IHost _host;

    private OrleansClient(IHost host) => _host = host;

    public IClusterClient Client => _host.Services.GetRequiredService<IClusterClient>();

    /// <summary>Connects; throws when the gateway refuses. With a certificate, it trusts the server's when it chains to <paramref name="trusts"/>.</summary>
    public static async Task<OrleansClient> ConnectAsync(int gatewayPort, string clusterId, IssuedCertificate? certificate, TestCertificateAuthority? trusts,
        CancellationToken cancellationToken)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client =>
        {
            client.UseStaticClustering(new IPEndPoint(IPAddress.Loopback, gatewayPort));
            client.Configure<ClusterOptions>(options =>
            {
                options.ClusterId = clusterId;
                options.ServiceId = "relay";
            });
            if (certificate is not null)
            {
                var authorities = new System.Security.Cryptography.X509Certificates.X509Certificate2Collection(trusts!.Certificate);
                client.UseTls(certificate.Load(), tls =>
                {
                    tls.ClientCertificateMode = Orleans.Connections.Security.RemoteCertificateMode.RequireCertificate;
                    tls.RemoteCertificateValidation = (server, chain, errors) => Cluster.ClusterTls.ChainsTo(server, chain, authorities, out _);
                });
            }
        });
        var host = builder.Build();
        try
        {
            await host.StartAsync(cancellationToken);
        }
        catch
        {
            host.Dispose();
            throw;
        }

        return new OrleansClient(host);
    }

    /// <summary>
    /// Null when the client did not get in: it did not connect within 15 s, or its grain call failed; otherwise how it got
    /// in. A refused Orleans client does not fail at once (it keeps reconnecting until its deadline), so the tests tell a
    /// refusal from a slow start by the gateway's own account of it (<see cref="TlsClusterFixture.TlsRefusals"/>).
    /// </summary>
    public static async Task<string?> GetsInAsync(Func<CancellationToken, Task<OrleansClient>> connect, Func<IClusterClient, Task> call)
    {
        var within = TimeSpan.FromSeconds(15);
        OrleansClient client;
        using (var deadline = new CancellationTokenSource(within))
        {
            try
            {
                client = await connect(deadline.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or OrleansException or IOException)
            {
                return null;
            }
        }

        await using (client)
        {
            try
            {
                await call(client.Client).WaitAsync(within);
            }
            catch (Exception ex) when (ex is OrleansException or TimeoutException or IOException)
            {
                return null;
            }

            return "the client connected and its grain call answered: the gateway let it in";
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _host.StopAsync(deadline.Token);
        }
        finally
        {
            _host.Dispose();
        }
    }
}
