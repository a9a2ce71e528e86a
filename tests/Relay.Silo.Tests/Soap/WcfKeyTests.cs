using System.ServiceModel;

namespace Relay.Silo.Tests.Soap;

/// <summary>The SOAP front door with keys configured, through a stock WCF client.</summary>
public sealed class WcfKeyTests : IAsyncLifetime
{
    private const string SenderKey = "soap-sender-2b7d";
    private const string OtherKey = "soap-other-9e41";
    private TestDestination _destination = null!;
    private TestSilo _silo = null!;

    private Uri ServiceUrl => new(_silo.Client.BaseAddress!, "/Messaging.svc");

    public async Task InitializeAsync()
    {
        _destination = await TestDestination.StartAsync();
        _silo = await TestSilo.StartAsync(new SiloSettings
        {
            ["Relay:Security:SenderKeys:erp"] = SenderKey,
            ["Relay:Security:SenderKeys:crm"] = OtherKey,
            ["Relay:Security:OperatorKeys:ops"] = "soap-ops-77c0",
        }
            .Destination("billing", _destination.Url("/bill")));
    }

    public async Task DisposeAsync()
    {
        await _silo.DisposeAsync();
        await _destination.DisposeAsync();
    }

    [Fact]
    public async Task A_sender_key_sends_and_reads_its_own_message()
    {
        await using var client = new WcfClient(ServiceUrl, SenderKey);

        var sent = await client.Service.SendAsync(new SendRequest { Id = "soap-keyed-1", Destination = "billing", Payload = "p" });
        var status = await client.Service.GetStatusAsync("soap-keyed-1");

        Assert.Equal(DeliveryStatus.Delivered, sent.Status);
        Assert.Equal(DeliveryStatus.Delivered, status.Status);
        Assert.Single(_destination.Received);
    }

    [Fact]
    public async Task Without_a_key_the_call_fails_and_nothing_is_sent()
    {
        await using var client = new WcfClient(ServiceUrl);

        // WCF turns the 401 into a security exception (it names the Bearer challenge).
        var error = await Assert.ThrowsAnyAsync<Exception>(() =>
            client.Service.SendAsync(new SendRequest { Id = "soap-unkeyed-1", Destination = "billing", Payload = "p" }));

        Assert.True(error is System.ServiceModel.Security.MessageSecurityException or CommunicationException, error.ToString());
        Assert.Contains("Unauthorized", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Null(await ReadAsOperatorAsync("soap-unkeyed-1"));
        Assert.Empty(_destination.Received);
    }

    [Fact]
    public async Task Another_senders_message_is_not_found()
    {
        await using var owner = new WcfClient(ServiceUrl, SenderKey);
        await owner.Service.SendAsync(new SendRequest { Id = "soap-keyed-2", Destination = "billing", Payload = "p" });
        await using var other = new WcfClient(ServiceUrl, OtherKey);

        var fault = await Assert.ThrowsAsync<FaultException<RelayFault>>(() => other.Service.GetStatusAsync("soap-keyed-2"));

        Assert.Equal(404, fault.Detail.StatusCode);
    }

    private async Task<string?> ReadAsOperatorAsync(string id)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/messages/{id}");
        request.Headers.Add("X-Api-Key", "soap-ops-77c0");
        var response = await _silo.Client.SendAsync(request);
        return response.StatusCode == System.Net.HttpStatusCode.NotFound ? null : await response.Content.ReadAsStringAsync();
    }
}
