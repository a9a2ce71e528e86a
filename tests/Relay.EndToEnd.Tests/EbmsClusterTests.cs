using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;

namespace Relay.EndToEnd.Tests;

/// <summary>
/// ebXML on a real cluster: two silo processes on a private PostgreSQL, an Ebms2 destination whose partner MSH
/// acknowledges asynchronously (<c>SyncReply: false</c>). The acknowledgment may reach any silo's <c>POST /ebms</c>, not
/// the one that sent the message (issue 17: "async ack arriving later on another silo -> Delivered").
/// </summary>
public sealed partial class EbmsClusterTests : IAsyncLifetime
{
    private const string PartnerKey = "partner-key-0123456789";
    private readonly List<SiloProcess> _silos = [];
    private TestDestination _partner = null!;
    private string _connectionString = "";
    private readonly string _clusterId = "ebms-" + Guid.NewGuid().ToString("N")[..8];

    public async Task InitializeAsync()
    {
        _connectionString = await (await PostgresServer.Shared).CreateDatabaseAsync();
        // The partner's MSH answers the POST with 200 and no body: its acknowledgment comes later, to /ebms.
        _partner = await TestDestination.StartAsync();
        _partner.Answer("/msh", new Reply(200));
        // One at a time: the first applies the schema; the second joins.
        for (var i = 0; i < 2; i++)
        {
            _silos.Add(await SiloProcess.StartAsync(SiloProcess.NewWorkingDirectory(),
            [
                "--Relay:Storage:Provider=AdoNet",
                "--Relay:Storage:Invariant=Npgsql",
                $"--Relay:Storage:ConnectionString={_connectionString}",
                "--Relay:Storage:Migrate=true",
                "--Relay:Storage:MaxPoolSize=10",
                $"--Relay:Cluster:ClusterId={_clusterId}",
                "--Relay:Scheduler:PollInterval=00:00:00.100",
                // The acknowledgment has a minute: no retry can happen while the test runs.
                "--Relay:Contracts:patient:MaxAttempts=3",
                "--Relay:Contracts:patient:Delay=00:01:00",
                $"--Relay:Destinations:partner:Address={_partner.Url("/msh")}",
                "--Relay:Destinations:partner:Contract=patient",
                "--Relay:Destinations:partner:Protocol=Ebms2",
                "--Relay:Destinations:partner:Ebms:FromPartyId=urn:test:relay",
                "--Relay:Destinations:partner:Ebms:ToPartyId=urn:test:partner",
                "--Relay:Destinations:partner:Ebms:CpaId=cpa-test",
                "--Relay:Destinations:partner:Ebms:Service=urn:test:orders",
                "--Relay:Destinations:partner:Ebms:Action=NewOrder",
                "--Relay:Destinations:partner:Ebms:SyncReply=false",
                $"--Relay:Destinations:partner:Ebms:PartnerKey={PartnerKey}",
                "--Relay:Samples:Enabled=false",
                "--Logging:LogLevel:Default=Warning",
            ]));
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var silo in _silos)
        {
            await silo.DisposeAsync();
        }

        await _partner.DisposeAsync();
    }

    [GeneratedRegex("<eb:MessageId>([^<]+)</eb:MessageId>")]
    private static partial Regex MessageIdElement();

    /// <summary>The partner MSH's eb:Acknowledgment of <paramref name="refToMessageId"/> (ebMS 2.0 §6.3.2), minimal.</summary>
    private static string Acknowledgment(string refToMessageId)
    {
        var now = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture);
        return $"""
            <?xml version="1.0" encoding="utf-8"?>
            <SOAP:Envelope xmlns:SOAP="http://schemas.xmlsoap.org/soap/envelope/" xmlns:eb="http://www.oasis-open.org/committees/ebxml-msg/schema/msg-header-2_0.xsd">
              <SOAP:Header>
                <eb:MessageHeader SOAP:mustUnderstand="1" eb:version="2.0">
                  <eb:From><eb:PartyId>urn:test:partner</eb:PartyId></eb:From>
                  <eb:To><eb:PartyId>urn:test:relay</eb:PartyId></eb:To>
                  <eb:CPAId>cpa-test</eb:CPAId>
                  <eb:ConversationId>conversation</eb:ConversationId>
                  <eb:Service>urn:oasis:names:tc:ebxml-msg:service</eb:Service>
                  <eb:Action>Acknowledgment</eb:Action>
                  <eb:MessageData>
                    <eb:MessageId>{Guid.NewGuid():N}@partner</eb:MessageId>
                    <eb:Timestamp>{now}</eb:Timestamp>
                    <eb:RefToMessageId>{refToMessageId}</eb:RefToMessageId>
                  </eb:MessageData>
                </eb:MessageHeader>
                <eb:Acknowledgment SOAP:mustUnderstand="1" eb:version="2.0" SOAP:actor="urn:oasis:names:tc:ebxml-msg:actor:toPartyMSH">
                  <eb:Timestamp>{now}</eb:Timestamp>
                  <eb:RefToMessageId>{refToMessageId}</eb:RefToMessageId>
                </eb:Acknowledgment>
              </SOAP:Header>
              <SOAP:Body/>
            </SOAP:Envelope>
            """;
    }

    /// <summary>Posts the acknowledgment to a silo's <c>/ebms</c> as the partner's MSH would (HTTP Basic, the partner key); its X-Relay-Acknowledgment.</summary>
    private static async Task<string?> AcknowledgeAsync(SiloProcess silo, string refToMessageId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/ebms") { Content = new StringContent(Acknowledgment(refToMessageId), Encoding.UTF8) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("text/xml; charset=utf-8");
        request.Headers.TryAddWithoutValidation("SOAPAction", "\"ebXML\"");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"partner:{PartnerKey}")));
        using var response = await silo.Client.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"POST /ebms: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return response.Headers.TryGetValues("X-Relay-Acknowledgment", out var values) ? values.Single() : null;
    }

    private static async Task<JsonNode> ReadAsync(SiloProcess silo, string id)
    {
        using var response = await silo.Client.GetAsync($"/messages/{Uri.EscapeDataString(id)}");
        Assert.True(response.IsSuccessStatusCode, $"GET {id} on {silo.Url}: {(int)response.StatusCode}");
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    private static int Acknowledged(JsonNode message) => message["events"]!.AsArray().Count(e => (string?)e!["action"] == "Acknowledged");

    [Fact]
    public async Task An_acknowledgment_posted_to_the_other_silo_delivers_the_message_once_and_a_duplicate_on_the_first_changes_nothing()
    {
        using var sent = await _silos[0].Client.PostAsJsonAsync("/messages",
            new { id = "ebms-cluster-1", destination = "partner", payload = "<Order/>", contentType = "application/xml" });
        var body = JsonNode.Parse(await sent.Content.ReadAsStringAsync())!;
        Assert.Equal(HttpStatusCode.Accepted, sent.StatusCode);
        Assert.Equal("AwaitingAcknowledgment", (string?)body["status"]);
        var request = Assert.Single(_partner.ReceivedAt("/msh"));
        var ebmsMessageId = MessageIdElement().Match(request.Text).Groups[1].Value;
        Assert.False(string.IsNullOrEmpty(ebmsMessageId), "no eb:MessageId in what the partner received");

        // The partner's MSH posts its acknowledgment to silo 2, which did not send the message.
        Assert.Equal("Completed", await AcknowledgeAsync(_silos[1], ebmsMessageId));

        foreach (var silo in _silos)
        {
            var delivered = await ReadAsync(silo, "ebms-cluster-1");
            Assert.Equal("Delivered", (string?)delivered["status"]);
            Assert.Equal(1, Acknowledged(delivered));
        }

        // The partner posts the same acknowledgment again, this time to silo 1: answered, nothing changes.
        Assert.Equal("AlreadyFinal", await AcknowledgeAsync(_silos[0], ebmsMessageId));
        foreach (var silo in _silos)
        {
            var after = await ReadAsync(silo, "ebms-cluster-1");
            Assert.Equal("Delivered", (string?)after["status"]);
            Assert.Equal(1, Acknowledged(after));
        }

        Assert.Single(_partner.ReceivedAt("/msh"));
    }
}
