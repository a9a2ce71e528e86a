using System.Security.Cryptography.X509Certificates;
using Relay.Adapters.Http;
using Relay.Adapters.Soap;

namespace Relay.Adapters.Tests.Http;

/// <summary>
/// Mutual TLS: a real Kestrel server on loopback with a certificate of a private CA, requiring a client certificate
/// (<c>ClientCertificateMode.RequireCertificate</c>) of another private CA; certificates made in the test.
/// </summary>
public sealed class ClientCertificateTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly CapturedLogs _logs = new();
    private TestCertificateAuthority _serverCa = null!;
    private TestCertificateAuthority _clientCa = null!;
    private IssuedCertificate _client = null!;
    private AuthServer _server = null!;

    public async Task InitializeAsync()
    {
        _serverCa = TestCertificateAuthority.Create("Relay Test Server CA");
        _clientCa = TestCertificateAuthority.Create("Relay Test Client CA");
        _client = _clientCa.Issue("relay-client");
        _server = await AuthServer.StartAsync(_serverCa.Issue("partner").Load(), _clientCa.Certificate);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _serverCa.Dispose();
        _clientCa.Dispose();
    }

    private HttpAdapter Adapter() => new(Options.Create(new HttpAdapterOptions()), TimeProvider.System, TestMessages.Logger<HttpAdapter>(_logs));

    private T Destination<T>(string path, ClientCertificateOptions? certificate) where T : HttpTransportDestinationOptions, new() => new()
    {
        Address = _server.Url(path),
        TrustedCaPath = _serverCa.CaPath,
        ClientCertificate = certificate,
    };

    private ClientCertificateOptions Pem() => new() { Path = _client.CertificatePath, KeyPath = _client.KeyPath };

    [Fact]
    public async Task With_the_right_PEM_certificate_the_message_is_delivered()
    {
        using var adapter = Adapter();

        var result = await adapter.SendAsync(TestMessages.Outbound("mtls-1", "{}"), Destination<HttpDestinationOptions>("/open", Pem()), Timeout, CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.Success, result);
        Assert.Equal("CN=relay-client", _server.LastClientCertificate);
    }

    [Fact]
    public async Task With_a_PKCS12_file_and_its_password_from_the_environment_the_message_is_delivered()
    {
        var pfx = Path.Combine(_clientCa.Folder, "relay-client.pfx");
        using (var loaded = _client.Load())
        {
            await File.WriteAllBytesAsync(pfx, loaded.Export(X509ContentType.Pfx, "pfx-pw-3Jd"));
        }

        var variable = "RELAY_TEST_PFX_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        Environment.SetEnvironmentVariable(variable, "pfx-pw-3Jd");
        try
        {
            using var adapter = Adapter();
            var destination = Destination<HttpDestinationOptions>("/open", new ClientCertificateOptions { Path = pfx, Password = "${env:" + variable + "}" });

            var result = await adapter.SendAsync(TestMessages.Outbound("mtls-pfx", "{}"), destination, Timeout, CancellationToken.None);

            AssertAttempt.Outcome(AttemptOutcome.Success, result);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public async Task Without_a_client_certificate_the_attempt_is_a_retryable_failure()
    {
        using var adapter = Adapter();

        var result = await adapter.SendAsync(TestMessages.Outbound("mtls-2", "{}"), Destination<HttpDestinationOptions>("/open", null), Timeout, CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.RetryableFailure, result);
        Assert.Null(result.StatusCode);
        Assert.False(string.IsNullOrEmpty(result.Error));
    }

    [Fact]
    public async Task A_certificate_of_another_CA_is_refused_and_retryable()
    {
        using var otherCa = TestCertificateAuthority.Create("Relay Test Other CA");
        var other = otherCa.Issue("stranger");
        using var adapter = Adapter();

        var result = await adapter.SendAsync(TestMessages.Outbound("mtls-3", "{}"),
            Destination<HttpDestinationOptions>("/open", new ClientCertificateOptions { Path = other.CertificatePath, KeyPath = other.KeyPath }), Timeout, CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.RetryableFailure, result);
    }

    [Fact]
    public async Task A_server_certificate_not_of_the_trusted_CA_fails_the_handshake_with_its_reason_in_the_error()
    {
        using var adapter = Adapter();
        var destination = Destination<HttpDestinationOptions>("/open", Pem());
        destination.TrustedCaPath = _clientCa.CaPath;

        var result = await adapter.SendAsync(TestMessages.Outbound("mtls-4", "{}"), destination, Timeout, CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.RetryableFailure, result);
        Assert.StartsWith("TLS handshake failed: ", result.Error, StringComparison.Ordinal);
        Assert.Contains("certificate", result.Error, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_SOAP_destination_presents_its_certificate_and_its_OAuth_token_together()
    {
        using var adapter = new SoapAdapter(Options.Create(new SoapAdapterOptions()), TimeProvider.System, TestMessages.Logger<SoapAdapter>(_logs));
        var destination = Destination<SoapDestinationOptions>("/api", Pem());
        destination.Protocol = "Soap";
        destination.Auth = new HttpAuthOptions
        {
            Kind = HttpAuthKind.OAuth2ClientCredentials,
            TokenUrl = _server.Url("/token"),
            ClientId = _server.ClientId,
            ClientSecret = _server.ClientSecret,
        };

        var result = await adapter.SendAsync(TestMessages.Outbound("mtls-soap", "<order/>"), destination, Timeout, CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.Success, result);
        Assert.Equal(1, _server.TokenRequests);
        Assert.Equal("CN=relay-client", _server.LastClientCertificate);
    }
}
