using System.IdentityModel.Selectors;
using System.IdentityModel.Tokens;
using System.Security.Cryptography.X509Certificates;
using System.ServiceModel;
using System.ServiceModel.Security;
using Relay.Contracts;
using Relay.Testing;

namespace Relay.Silo.Tests.Soap;

/// <summary>
/// The front door over HTTPS, configured the way docs/OPERATIONS.md says (Kestrel's own certificate settings, nothing of
/// Relay's), and the stock WCF client over <see cref="BasicHttpsBinding"/>, trusting the test CA through its own
/// certificate validation settings.
/// </summary>
public sealed class HttpsFrontDoorTests : IAsyncLifetime
{
    private readonly TestCertificateAuthority _ca = TestCertificateAuthority.Create("relay front door test CA");
    private TestDestination _destination = null!;
    private TestSilo _silo = null!;

    private Uri ServiceUrl => new(_silo.Addresses.Single().Replace("[::]", "127.0.0.1", StringComparison.Ordinal) + "/Messaging.svc");

    public async Task InitializeAsync()
    {
        var server = _ca.Issue("localhost");
        _destination = await TestDestination.StartAsync();
        _silo = await TestSilo.StartAsync(new Dictionary<string, string?>
        {
            ["Kestrel:Certificates:Default:Path"] = server.CertificatePath,
            ["Kestrel:Certificates:Default:KeyPath"] = server.KeyPath,
            ["Relay:Destinations:billing:Address"] = _destination.Url("/bill"),
        }, urls: "https://127.0.0.1:0");
    }

    [Fact]
    public async Task A_stock_WCF_client_sends_over_BasicHttpsBinding_trusting_the_CA_by_its_validation_settings()
    {
        Assert.StartsWith("https://", ServiceUrl.ToString(), StringComparison.Ordinal);
        var factory = new ChannelFactory<IMessagingService>(new BasicHttpsBinding(), new EndpointAddress(ServiceUrl));
        factory.Credentials.ServiceCertificate.SslCertificateAuthentication = new X509ServiceCertificateAuthentication
        {
            CertificateValidationMode = X509CertificateValidationMode.Custom,
            CustomCertificateValidator = new IssuedBy(_ca.Certificate),
        };
        var service = factory.CreateChannel();

        var result = await service.SendAsync(new SendRequest { Id = "https-1", Destination = "billing", Payload = "over TLS" });
        ((IClientChannel)service).Close();
        factory.Close();

        Assert.Equal(DeliveryStatus.Delivered, result.Status);
        var received = Assert.Single(_destination.ReceivedAt("/bill"));
        Assert.Equal("over TLS", received.Text);
    }

    [Fact]
    public async Task A_WCF_client_that_does_not_trust_the_certificate_is_refused_and_nothing_is_sent()
    {
        // The control: the same client with the platform's trust (which knows nothing of the test CA) fails the handshake,
        // so the test above passed over TLS with the test certificate, and only thanks to its validation settings.
        var factory = new ChannelFactory<IMessagingService>(new BasicHttpsBinding(), new EndpointAddress(ServiceUrl));
        var service = factory.CreateChannel();

        await Assert.ThrowsAsync<SecurityNegotiationException>(() =>
            service.SendAsync(new SendRequest { Id = "https-untrusted", Destination = "billing", Payload = "p" }));
        ((IClientChannel)service).Abort();
        factory.Abort();

        Assert.DoesNotContain(_destination.ReceivedAt("/bill"), r => r.Header("Idempotency-Key") == "https-untrusted");
    }

    public async Task DisposeAsync()
    {
        await _silo.DisposeAsync();
        await _destination.DisposeAsync();
        _ca.Dispose();
    }

    /// <summary>Accepts a server certificate that chains to <paramref name="authority"/>, and nothing else.</summary>
    private sealed class IssuedBy(X509Certificate2 authority) : X509CertificateValidator
    {
        public override void Validate(X509Certificate2 certificate)
        {
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(authority);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            if (!chain.Build(certificate))
            {
                throw new SecurityTokenValidationException($"{certificate.Subject} is not issued by {authority.Subject}.");
            }
        }
    }
}
