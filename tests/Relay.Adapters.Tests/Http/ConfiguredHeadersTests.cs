using Relay.Adapters.Http;
using Relay.Adapters.Soap;

namespace Relay.Adapters.Tests.Http;

/// <summary>
/// The adapters that speak HTTP apply a destination's configured headers last, and leave out the credential headers
/// of a message to a destination with credentials of its own: a message accepted before these were refused at the
/// door (or stored before the destination's configuration changed) cannot override them. A real server on loopback.
/// </summary>
public sealed class ConfiguredHeadersTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private TestDestination _server = null!;

    public async Task InitializeAsync() => _server = await TestDestination.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static Dictionary<string, string> SenderHeaders() => new()
    {
        ["x-tenant"] = "other",
        ["Authorization"] = "Bearer sender-token",
        ["Cookie"] = "session=sender",
        ["X-Order"] = "7",
    };

    private T Destination<T>(string protocol, string path) where T : DestinationOptions, new() => new()
    {
        Protocol = protocol,
        Address = _server.Url(path),
        Headers = new(StringComparer.OrdinalIgnoreCase) { ["X-Tenant"] = "acme", ["X-Api-Key"] = "destination-key" },
    };

    [Fact]
    public async Task Http_sends_the_configured_headers_over_the_message_ones_and_no_credential_of_the_sender()
    {
        using var adapter = new HttpAdapter(Options.Create(new HttpAdapterOptions()), TimeProvider.System, TestMessages.Logger<HttpAdapter>(new CapturedLogs()));

        var result = await adapter.SendAsync(TestMessages.Outbound("http-1", "{}", headers: SenderHeaders()), Destination<HttpDestinationOptions>("Http", "/http"), Timeout, CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.Success, result);
        AssertConfiguredHeadersWon(Assert.Single(_server.ReceivedAt("/http")));
    }

    [Fact]
    public async Task Soap_sends_the_configured_headers_over_the_message_ones_and_no_credential_of_the_sender()
    {
        using var adapter = new SoapAdapter(Options.Create(new SoapAdapterOptions()), TimeProvider.System, TestMessages.Logger<SoapAdapter>(new CapturedLogs()));

        var result = await adapter.SendAsync(TestMessages.Outbound("soap-1", "<order/>", headers: SenderHeaders()), Destination<SoapDestinationOptions>("Soap", "/soap"), Timeout, CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.Success, result);
        AssertConfiguredHeadersWon(Assert.Single(_server.ReceivedAt("/soap")));
    }

    [Fact]
    public async Task Without_credentials_configured_the_sender_Authorization_goes_through()
    {
        using var adapter = new HttpAdapter(Options.Create(new HttpAdapterOptions()), TimeProvider.System, TestMessages.Logger<HttpAdapter>(new CapturedLogs()));

        var result = await adapter.SendAsync(TestMessages.Outbound("http-2", "{}", headers: SenderHeaders()),
            new HttpDestinationOptions { Protocol = "Http", Address = _server.Url("/open") }, Timeout, CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.Success, result);
        var received = Assert.Single(_server.ReceivedAt("/open"));
        Assert.Equal("Bearer sender-token", received.Header("Authorization"));
        Assert.Equal("other", received.Header("X-Tenant"));
    }

    private static void AssertConfiguredHeadersWon(ReceivedRequest received)
    {
        Assert.Equal("acme", received.Header("X-Tenant"));
        Assert.Equal("destination-key", received.Header("X-Api-Key"));
        Assert.Null(received.Header("Authorization"));
        Assert.Null(received.Header("Cookie"));
        Assert.Equal("7", received.Header("X-Order"));
    }
}
