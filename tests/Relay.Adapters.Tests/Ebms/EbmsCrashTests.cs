using System.Net.Http.Json;

namespace Relay.Adapters.Tests.Ebms;

/// <summary>kill -9 of the real silo process while deliveries await their ebXML acknowledgments: nothing is lost.</summary>
public sealed class EbmsCrashTests : IAsyncLifetime
{
    private readonly string _workDir = TempFolder.Create("relay-ebms-crash-");
    private EbmsTestReceiver _msh = null!;

    public async Task InitializeAsync()
    {
        _msh = await EbmsTestReceiver.StartAsync();
        _msh.Answer("/patient", new EbmsAnswer.Status(200));
        _msh.Answer("/brief", new EbmsAnswer.Status(200));
    }

    public async Task DisposeAsync()
    {
        await _msh.DisposeAsync();
        TempFolder.Delete(_workDir);
    }

    private string[] Args() =>
    [
        "--Relay:Scheduler:PollInterval=00:00:00.100",
        "--Relay:Scheduler:RecoveryGrace=00:00:02",
        "--Relay:Contracts:patient:MaxAttempts=3",
        "--Relay:Contracts:patient:Delay=00:05:00",
        "--Relay:Contracts:brief:MaxAttempts=3",
        "--Relay:Contracts:brief:Delay=00:00:02",
        .. Destination("patient"),
        .. Destination("brief"),
        "--Relay:Samples:Enabled=false",
        "--Logging:LogLevel:Default=Warning",
    ];

    private string[] Destination(string name) =>
    [
        $"--Relay:Destinations:{name}:Protocol=Ebms2",
        $"--Relay:Destinations:{name}:Address={_msh.Url("/" + name)}",
        $"--Relay:Destinations:{name}:Contract={name}",
        $"--Relay:Destinations:{name}:Ebms:FromPartyId=urn:test:relay",
        $"--Relay:Destinations:{name}:Ebms:ToPartyId=urn:test:partner",
        $"--Relay:Destinations:{name}:Ebms:CpaId=cpa-test",
        $"--Relay:Destinations:{name}:Ebms:Service=urn:test:orders",
        $"--Relay:Destinations:{name}:Ebms:Action=NewOrder",
        $"--Relay:Destinations:{name}:Ebms:SyncReply=false",
        $"--Relay:Destinations:{name}:Ebms:PartnerKey={EbmsAcknowledgmentFixture.Key}",
    ];

    private static async Task<string?> StatusAsync(SiloProcess silo, string id)
    {
        var response = await silo.Client.GetAsync($"/messages/{id}");
        return response.IsSuccessStatusCode ? (string?)(await TestSilo.ReadAsync(response))["status"] : null;
    }

    [Fact]
    public async Task A_kill_9_while_awaiting_acknowledgments_loses_nothing()
    {
        await using (var silo = await SiloProcess.StartAsync(_workDir, Args()))
        {
            foreach (var (id, destination) in new[] { ("crash-ack-1", "patient"), ("crash-ack-2", "brief") })
            {
                var response = await silo.Client.PostAsJsonAsync("/messages", new { id, destination, payload = "<Order/>" });
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
                Assert.Equal("AwaitingAcknowledgment", (string?)(await TestSilo.ReadAsync(response))["status"]);
            }

            await silo.KillAsync();
        }

        await using var restarted = await SiloProcess.StartAsync(_workDir, Args());

        // Still waiting, and an acknowledgment posted to the restarted silo completes it.
        Assert.Equal("AwaitingAcknowledgment", await StatusAsync(restarted, "crash-ack-1"));
        var sent = Assert.Single(_msh.ReceivedAt("/patient"));
        var ack = await EbmsAcknowledgmentTests.PostAsync(restarted.Client, EbmsReplies.Acknowledgment(sent.MessageId!), user: "patient");
        Assert.Equal(HttpStatusCode.OK, ack.StatusCode);
        await Eventually.Until(() => StatusAsync(restarted, "crash-ack-1"), s => s == "Delivered", what: "crash-ack-1 delivered");

        // The other's wait ended while the silo was down or since: its next attempt goes, with the same MessageId.
        await Eventually.Until(() => Task.FromResult(_msh.ReceivedAt("/brief").Count), n => n >= 2, TimeSpan.FromSeconds(60), "crash-ack-2 attempted again");
        var attempts = _msh.ReceivedAt("/brief");
        Assert.Single(attempts.Select(a => a.MessageId).Distinct());
        Assert.All(attempts, a => Assert.Empty(a.Problems));
        Assert.Single(_msh.ReceivedAt("/patient"));
    }
}
