using Relay.Adapters.Smtp;

namespace Relay.Adapters.Tests.Smtp;

/// <summary>UseTls (STARTTLS) against a real SMTP server that offers it.</summary>
public sealed class SmtpStartTlsTests : IAsyncLifetime
{
    private SmtpTestServer _server = null!;

    public async Task InitializeAsync() => _server = await SmtpTestServer.StartAsync(tls: true);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private SmtpDestinationOptions Destination() => new()
    {
        Protocol = "Smtp",
        Address = _server.Address,
        From = "relay@example.com",
        To = ["ops@example.org"],
        UseTls = true,
        Username = SmtpTestServer.User,
        Password = SmtpTestServer.Password,
    };

    private static SmtpAdapter Adapter(System.Net.Security.RemoteCertificateValidationCallback? validation) =>
        new(Options.Create(new SmtpAdapterOptions { CertificateValidation = validation }), TimeProvider.System, TestMessages.Logger<SmtpAdapter>(new CapturedLogs()));

    [Fact]
    public async Task Sends_over_STARTTLS_and_authenticates_inside_it()
    {
        var result = await Adapter(_server.Certificate!.TrustThisOne).SendAsync(TestMessages.Outbound("tls-1", "x"), Destination(), TimeSpan.FromSeconds(5), CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.Success, result);
        var mail = Assert.Single(_server.Mails());
        Assert.True(mail.Tls);
        Assert.Equal(SmtpTestServer.User, mail.Login);
    }

    [Fact]
    public async Task A_certificate_the_system_does_not_trust_fails_the_handshake_retryably_and_sends_nothing()
    {
        var result = await Adapter(validation: null).SendAsync(TestMessages.Outbound("tls-2", "x"), Destination(), TimeSpan.FromSeconds(5), CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.RetryableFailure, result);
        Assert.Equal("TLS handshake failed", result.Error);
        Assert.Empty(_server.Mails());
    }
}
