using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Relay.Adapters.Tests.Ebms;

/// <summary>A real silo and its Ebms2 adapter, sending to a strict receiving MSH (<see cref="EbmsTestReceiver"/>) on 127.0.0.1.</summary>
public sealed class EbmsDestinationFixture : IAsyncLifetime
{
    public EbmsTestReceiver Msh { get; private set; } = null!;
    public TestDestination Http { get; private set; } = null!;
    public TestSilo Silo { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Msh = await EbmsTestReceiver.StartAsync();
        Http = await TestDestination.StartAsync();
        var settings = new SiloSettings()
            .Contract("quick", 3)
            .Destination("billing", Http.Url("/bill"), "quick");
        void Ebms(string name, string path)
        {
            settings.Destination(name, Msh.Url(path), "quick");
            settings[$"Relay:Destinations:{name}:Protocol"] = "Ebms2";
            settings[$"Relay:Destinations:{name}:Ebms:FromPartyId"] = "123456789";
            settings[$"Relay:Destinations:{name}:Ebms:FromPartyType"] = "urn:oasis:names:tc:ebxml-cppa:partyid-type:duns";
            settings[$"Relay:Destinations:{name}:Ebms:ToPartyId"] = "urn:test:partner";
            settings[$"Relay:Destinations:{name}:Ebms:CpaId"] = "cpa-test";
            settings[$"Relay:Destinations:{name}:Ebms:Service"] = "urn:test:orders";
            settings[$"Relay:Destinations:{name}:Ebms:Action"] = "NewOrder";
            settings[$"Relay:Destinations:{name}:Ebms:TimeToLive"] = "01:00:00";
        }

        foreach (var path in new[] { "ack", "multipart-ack", "no-ack", "final", "delivery-failure", "faults", "fields", "resubmit" })
        {
            Ebms(path, "/" + path);
        }

        Ebms("fire-and-forget", "/fire-and-forget");
        settings["Relay:Destinations:fire-and-forget:Ebms:AckRequested"] = "false";
        settings["Relay:Destinations:fire-and-forget:Ebms:SyncReply"] = "false";
        settings["Relay:Topics:mixed:0"] = "fields";
        settings["Relay:Topics:mixed:1"] = "billing";
        Silo = await TestSilo.StartAsync(settings);
    }

    public async Task DisposeAsync()
    {
        await Silo.DisposeAsync();
        await Http.DisposeAsync();
        await Msh.DisposeAsync();
    }
}

public sealed class EbmsDestinationTests(EbmsDestinationFixture relay) : IClassFixture<EbmsDestinationFixture>
{
    private const string Order = "<Order xmlns=\"urn:test:orders\"><amount>200</amount></Order>";

    private static object Message(string id, string destination, object? ebms = null, string payload = Order) =>
        new { id, destination, payload, contentType = "application/xml", correlationId = "conversation-" + id, ebms };

    private static EbmsReceived Strict(EbmsReceived received)
    {
        Assert.True(received.Problems.Count == 0, "the receiving MSH found:\n" + string.Join("\n", received.Problems));
        return received;
    }

    [Fact]
    public async Task A_synchronous_acknowledgment_delivers_within_the_request()
    {
        var (response, body) = await relay.Silo.SendAndReadAsync(Message("ebms-ack-1", "ack"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Delivered", (string?)body["status"]);
        var received = Strict(Assert.Single(relay.Msh.ReceivedAt("/ack")));
        Assert.Equal((string?)body["deliveries"]![0]!["response"]!["headers"]!["ebXML-MessageId"], received.MessageId);
        Assert.Matches("^ebms-ack-1\\.ack\\.[0-9a-f]{16}@relay$", received.MessageId);
        Assert.Equal(("123456789", "urn:oasis:names:tc:ebxml-cppa:partyid-type:duns", "urn:test:partner"), (received.FromPartyId, received.FromPartyType, received.ToPartyId));
        Assert.Equal(("cpa-test", "conversation-ebms-ack-1", "urn:test:orders", "NewOrder"), (received.CpaId, received.ConversationId, received.Service, received.Action));
        Assert.True(received.AckRequested && received.SyncReply && received.DuplicateElimination);
        Assert.Equal(received.Timestamp + TimeSpan.FromHours(1), received.TimeToLive);
        Assert.Equal(Order, Encoding.UTF8.GetString(received.Payload));
        Assert.Equal("application/xml", received.PayloadContentType);
    }

    [Fact]
    public async Task An_acknowledgment_in_a_multipart_reply_delivers_too()
    {
        relay.Msh.Answer("/multipart-ack", new EbmsAnswer.Ack(Multipart: true));

        var (_, body) = await relay.Silo.SendAndReadAsync(Message("ebms-mp-ack-1", "multipart-ack"));

        Assert.Equal("Delivered", (string?)body["status"]);
        Strict(Assert.Single(relay.Msh.ReceivedAt("/multipart-ack")));
    }

    [Fact]
    public async Task Without_an_acknowledgment_the_message_is_retried_with_the_same_MessageId()
    {
        relay.Msh.Script("/no-ack", new EbmsAnswer.Status(200), new EbmsAnswer.Status(503), new EbmsAnswer.Ack());

        var (response, body) = await relay.Silo.SendAndReadAsync(Message("ebms-no-ack-1", "no-ack"));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("InRetry", (string?)body["status"]);
        Assert.Equal("No ebXML acknowledgment in the reply (200 OK)", (string?)body["deliveries"]![0]!["lastError"]);
        var final = await relay.Silo.WaitForStatusAsync("ebms-no-ack-1", "Delivered");
        Assert.Equal(["RetryableFailure", "RetryableFailure", "Success"], final!["attempts"]!.AsArray().Select(a => (string?)a!["outcome"]));
        var received = relay.Msh.ReceivedAt("/no-ack");
        Assert.Equal(3, received.Count);
        Assert.All(received, r => Strict(r));
        Assert.Single(received.Select(r => r.MessageId).Distinct());
        Assert.Equal(["1", "2", "3"], received.Select(r => r.AttemptHeader));
    }

    [Fact]
    public async Task An_error_list_with_a_final_error_dead_letters_at_once_with_the_reason_in_the_audit()
    {
        relay.Msh.Script("/final", new EbmsAnswer.Errors(("SecurityFailure", "Error", "The signature is missing")));

        var (response, body) = await relay.Silo.SendAndReadAsync(Message("ebms-final-1", "final"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("DeadLettered", (string?)body["status"]);
        Assert.Equal(1, (int?)body["deliveries"]![0]!["attempts"]);
        const string Reason = "ebXML error SecurityFailure (Error): The signature is missing";
        Assert.Equal(Reason, (string?)body["deliveries"]![0]!["lastError"]);
        var audit = Assert.Single((await relay.Silo.GetMessageAsync("ebms-final-1"))!["attempts"]!.AsArray());
        Assert.Equal("NonRetryableFailure", (string?)audit!["outcome"]);
        Assert.Equal(Reason, (string?)audit["error"]);
        Assert.Contains("SecurityFailure", (string?)audit["responseBody"], StringComparison.Ordinal);
        Strict(Assert.Single(relay.Msh.ReceivedAt("/final")));
    }

    [Fact]
    public async Task A_DeliveryFailure_is_retried_and_a_later_acknowledgment_delivers()
    {
        relay.Msh.Script("/delivery-failure", new EbmsAnswer.Errors(("DeliveryFailure", "Error", "Party unreachable")));

        var (_, body) = await relay.Silo.SendAndReadAsync(Message("ebms-df-1", "delivery-failure"));

        Assert.Equal("InRetry", (string?)body["status"]);
        Assert.Equal("ebXML error DeliveryFailure (Error): Party unreachable", (string?)body["deliveries"]![0]!["lastError"]);
        await relay.Silo.WaitForStatusAsync("ebms-df-1", "Delivered");
        Assert.Single(relay.Msh.ReceivedAt("/delivery-failure").Select(r => Strict(r).MessageId).Distinct());
    }

    [Fact]
    public async Task A_SOAP_fault_is_classified_by_its_code()
    {
        relay.Msh.Script("/faults", new EbmsAnswer.Fault("Server", "Busy"), new EbmsAnswer.Ack(), new EbmsAnswer.Fault("Client", "Bad header"));

        var (_, retried) = await relay.Silo.SendAndReadAsync(Message("ebms-fault-1", "faults"));
        Assert.Equal("SOAP fault Server: Busy", (string?)retried["deliveries"]![0]!["lastError"]);
        await relay.Silo.WaitForStatusAsync("ebms-fault-1", "Delivered");

        var (_, final) = await relay.Silo.SendAndReadAsync(Message("ebms-fault-2", "faults"));
        Assert.Equal("DeadLettered", (string?)final["status"]);
        Assert.Equal("SOAP fault Client: Bad header", (string?)final["deliveries"]![0]!["lastError"]);
    }

    [Fact]
    public async Task Without_AckRequested_an_HTTP_2xx_delivers()
    {
        relay.Msh.Answer("/fire-and-forget", new EbmsAnswer.Status(202));

        var (_, body) = await relay.Silo.SendAndReadAsync(Message("ebms-fire-1", "fire-and-forget"));

        Assert.Equal("Delivered", (string?)body["status"]);
        var received = Strict(Assert.Single(relay.Msh.ReceivedAt("/fire-and-forget")));
        Assert.False(received.AckRequested || received.SyncReply);
    }

    [Fact]
    public async Task A_message_s_own_service_and_action_are_sent_instead_of_the_destination_s()
    {
        var (_, body) = await relay.Silo.SendAndReadAsync(Message("ebms-fields-1", "fields", new { service = "Invoices", serviceType = "string", action = "NewInvoice" }));
        Assert.Equal("Delivered", (string?)body["status"]);
        await relay.Silo.SendAndReadAsync(Message("ebms-fields-2", "fields", new { action = "Cancel" }));

        var received = relay.Msh.ReceivedAt("/fields").Select(Strict).ToList();
        Assert.Equal([("Invoices", "string", "NewInvoice"), ("urn:test:orders", null, "Cancel")], received.Select(r => (r.Service, r.ServiceType, r.Action)));
        // The fields are part of the message: the same id with other fields is another message.
        var conflict = await relay.Silo.SendAsync(Message("ebms-fields-2", "fields", new { action = "Other" }));
        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
    }

    [Theory]
    [InlineData("{\"action\": \"\"}", "'ebms.action' is empty.")]
    [InlineData("{\"action\": \"a\\nb\"}", "'ebms.action' must be printable text on one line.")]
    [InlineData("{\"service\": \"Invoices\"}", "'ebms.service' is 'Invoices', which is not a URI.")]
    [InlineData("{\"serviceType\": \"string\"}", "'ebms.serviceType' is given without 'ebms.service'.")]
    public async Task Bad_fields_are_refused_with_problem_json_and_nothing_is_stored_or_sent(string ebms, string title)
    {
        var id = "ebms-bad-" + Guid.NewGuid().ToString("N");
        var json = $"{{\"id\": \"{id}\", \"destination\": \"fields\", \"payload\": \"<x/>\", \"ebms\": {ebms}}}";

        var response = await relay.Silo.Client.PostAsync("/messages", new StringContent(json, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(title, (string?)(await TestSilo.ReadAsync(response))["title"]);
        Assert.Null(await relay.Silo.GetMessageAsync(id));
        Assert.DoesNotContain(relay.Msh.Received, r => r.ConversationId == id);
    }

    [Fact]
    public async Task Fields_for_a_destination_that_is_not_ebXML_are_refused()
    {
        var response = await relay.Silo.SendAsync(new { id = "ebms-mixed-1", topic = "mixed", payload = "<x/>", ebms = new { action = "A" } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("'ebms' is for ebXML destinations, but the destination 'billing' speaks Http.", (string?)(await TestSilo.ReadAsync(response))["title"]);
        Assert.Null(await relay.Silo.GetMessageAsync("ebms-mixed-1"));
        Assert.Empty(relay.Http.ReceivedAt("/bill"));
    }

    [Fact]
    public async Task A_resubmit_sends_the_same_MessageId_and_an_edited_payload_another()
    {
        relay.Msh.Script("/resubmit", new EbmsAnswer.Errors(("Inconsistent", "Error", "Unknown CPA")), new EbmsAnswer.Ack(),
            new EbmsAnswer.Errors(("Inconsistent", "Error", "Unknown CPA")), new EbmsAnswer.Ack());
        var (_, first) = await relay.Silo.SendAndReadAsync(Message("ebms-resubmit-1", "resubmit"));
        Assert.Equal("DeadLettered", (string?)first["status"]);

        var resubmitted = await relay.Silo.Client.PostAsJsonAsync("/messages/ebms-resubmit-1/resubmit", new { });
        Assert.True(resubmitted.IsSuccessStatusCode, await resubmitted.Content.ReadAsStringAsync());
        await relay.Silo.WaitForStatusAsync("ebms-resubmit-1", "Delivered");
        var (_, second) = await relay.Silo.SendAndReadAsync(Message("ebms-resubmit-2", "resubmit"));
        Assert.Equal("DeadLettered", (string?)second["status"]);
        var edited = await relay.Silo.Client.PostAsJsonAsync("/messages/ebms-resubmit-2/resubmit", new { payload = "<Order edited=\"1\"/>" });
        Assert.True(edited.IsSuccessStatusCode, await edited.Content.ReadAsStringAsync());
        await relay.Silo.WaitForStatusAsync("ebms-resubmit-2", "Delivered");

        var received = relay.Msh.ReceivedAt("/resubmit").Select(Strict).ToList();
        Assert.Equal(4, received.Count);
        Assert.Equal(received[0].MessageId, received[1].MessageId);
        Assert.NotEqual(received[2].MessageId, received[3].MessageId);
        Assert.Equal("<Order edited=\"1\"/>", Encoding.UTF8.GetString(received[3].Payload));
    }
}
