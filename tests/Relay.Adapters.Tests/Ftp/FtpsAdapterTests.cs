using Relay.Adapters.Ftp;

namespace Relay.Adapters.Tests.Ftp;

/// <summary>Explicit FTPS (AUTH TLS, PROT P) against a real server that requires TLS on both connections.</summary>
public sealed class FtpsAdapterTests : IAsyncLifetime
{
    private FtpTestServer _server = null!;

    public async Task InitializeAsync() => _server = await FtpTestServer.StartAsync(tls: true);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private FtpDestinationOptions Destination(bool useTls) => new()
    {
        Protocol = "Ftp",
        Address = _server.Url("inbox"),
        Username = FtpTestServer.User,
        Password = FtpTestServer.Password,
        UseTls = useTls,
    };

    private static FtpAdapter Adapter(System.Net.Security.RemoteCertificateValidationCallback? validation) =>
        new(Options.Create(new FtpAdapterOptions { CertificateValidation = validation }), TimeProvider.System, TestMessages.Logger<FtpAdapter>(new CapturedLogs()));

    [Fact]
    public async Task Uploads_over_TLS_on_the_control_and_the_data_connection()
    {
        var adapter = Adapter(_server.Certificate!.TrustThisOne);

        var result = await adapter.SendAsync(TestMessages.Outbound("secure-1", "over tls"), Destination(useTls: true), TimeSpan.FromSeconds(5), CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.Success, result);
        Assert.Equal(226, result.StatusCode);
        Assert.Contains("> AUTH TLS", result.Body);
        Assert.Contains("> PROT P", result.Body);
        Assert.Equal("over tls", Encoding.UTF8.GetString(_server.Read("inbox", "secure-1.dat")));
    }

    [Fact]
    public async Task A_certificate_the_system_does_not_trust_fails_the_handshake_retryably()
    {
        var result = await Adapter(validation: null).SendAsync(TestMessages.Outbound("untrusted-1", "x"), Destination(useTls: true), TimeSpan.FromSeconds(5), CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.RetryableFailure, result);
        Assert.Equal("TLS handshake failed", result.Error);
        Assert.Empty(_server.Files("inbox"));
    }

    [Fact]
    public async Task Without_UseTls_a_server_that_requires_TLS_refuses_the_login_for_good()
    {
        var result = await Adapter(validation: null).SendAsync(TestMessages.Outbound("plain-1", "x"), Destination(useTls: false), TimeSpan.FromSeconds(5), CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.NonRetryableFailure, result);
        Assert.InRange(result.StatusCode!.Value, 500, 599);
        Assert.Empty(_server.Files("inbox"));
    }
}
