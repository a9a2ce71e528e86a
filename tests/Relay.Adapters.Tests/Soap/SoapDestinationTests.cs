using System.ServiceModel;
using System.Text.Json.Nodes;
using System.Xml.Linq;

namespace Relay.Adapters.Tests.Soap;

/// <summary>A real silo, its SOAP adapter, real SOAP services (SoapCore) and a raw HTTP server on 127.0.0.1.</summary>
public sealed class SoapDestinationFixture : IAsyncLifetime
{
    public const string Password = "PASSWORD-SECRET-4711";

    public BillingService Billing { get; private set; } = null!;
    public BillingService SecureBilling { get; private set; } = null!;
    public TestDestination Raw { get; private set; } = null!;
    public CapturedLogs Logs { get; } = new();
    public TestSilo Silo { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Billing = await BillingService.StartAsync();
        SecureBilling = await BillingService.StartAsync("relay", Password);
        Raw = await TestDestination.StartAsync();
        var settings = new SiloSettings()
            .Contract("quick", 3);
        void Soap(string name, string address, string? action = null, string? version = null)
        {
            settings[$"Relay:Destinations:{name}:Protocol"] = "Soap";
            settings[$"Relay:Destinations:{name}:Address"] = address;
            settings[$"Relay:Destinations:{name}:Contract"] = "quick";
            settings[$"Relay:Destinations:{name}:SoapAction"] = action;
            settings[$"Relay:Destinations:{name}:SoapVersion"] = version;
        }

        Soap("billing", Billing.Url("/billing11.svc"), BillingService.Action);
        Soap("billing12", Billing.Url("/billing12.svc"), BillingService.Action, "1.2");
        Soap("secure", SecureBilling.Url("/billing11.svc"), BillingService.Action);
        settings["Relay:Destinations:secure:Username"] = "relay";
        settings["Relay:Destinations:secure:Password"] = Password;
        Soap("wrong-password", SecureBilling.Url("/billing11.svc"), BillingService.Action);
        settings["Relay:Destinations:wrong-password:Username"] = "relay";
        settings["Relay:Destinations:wrong-password:Password"] = "not-" + Password;
        Soap("raw11", Raw.Url("/raw11"), "urn:raw/Do");
        Soap("raw12", Raw.Url("/raw12"), "urn:raw/Do", "1.2");
        Soap("no-server-retry", Raw.Url("/no-server-retry"), "urn:raw/Do");
        settings["Relay:Destinations:no-server-retry:RetryOnServerFault"] = "false";
        Soap("nowhere", $"http://127.0.0.1:{Ports.Free()}/closed", "urn:raw/Do");
        Silo = await TestSilo.StartAsync(settings, logs: Logs);
    }

    public async Task DisposeAsync()
    {
        await Silo.DisposeAsync();
        await Raw.DisposeAsync();
        await SecureBilling.DisposeAsync();
        await Billing.DisposeAsync();
    }
}

public sealed class SoapDestinationTests(SoapDestinationFixture relay) : IClassFixture<SoapDestinationFixture>
{
    private const string Soap11 = "http://schemas.xmlsoap.org/soap/envelope/";
    private const string Soap12 = "http://www.w3.org/2003/05/soap-envelope";

    private static string BillPayload(int amount, string customer) =>
        $"<?xml version=\"1.0\" encoding=\"utf-8\"?><Bill xmlns=\"{BillingService.Namespace}\"><amount>{amount}</amount><customer>{customer}</customer></Bill>";

    private static string Fault11(string code, string reason) =>
        $"<s:Envelope xmlns:s=\"{Soap11}\"><s:Body><s:Fault><faultcode>s:{code}</faultcode><faultstring>{reason}</faultstring></s:Fault></s:Body></s:Envelope>";

    private static readonly Dictionary<string, string> Xml = new() { ["Content-Type"] = "text/xml; charset=utf-8" };

    [Fact]
    public async Task The_payload_is_wrapped_in_a_SOAP_1_1_envelope_and_delivered_to_a_real_SOAP_service()
    {
        var (response, body) = await relay.Silo.SendAndReadAsync(new { id = "soap-out-1", destination = "billing", payload = BillPayload(200, "acme"), correlationId = "req-1" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Delivered", (string?)body["status"]);
        var delivery = body["deliveries"]![0]!;
        Assert.Equal(200, (int?)delivery["response"]!["statusCode"]);
        Assert.Contains("invoice-for-acme-200", (string?)delivery["response"]!["body"], StringComparison.Ordinal);

        var call = Assert.Single(relay.Billing.Calls, c => c.Customer == "acme");
        Assert.Equal(200, call.Amount);
        Assert.Equal("\"" + BillingService.Action + "\"", call.Headers["SOAPAction"]);
        Assert.StartsWith("text/xml", call.Headers["Content-Type"], StringComparison.Ordinal);
        Assert.Equal("soap-out-1", call.Headers["Idempotency-Key"]);
        Assert.Equal("1", call.Headers["X-Relay-Attempt"]);
        Assert.Equal("req-1", call.Headers["X-Relay-Correlation-Id"]);
    }

    [Fact]
    public async Task A_SOAP_1_2_destination_gets_a_1_2_envelope_with_the_action_in_the_content_type()
    {
        relay.Raw.Answer("/raw12", new Reply(200, $"<e:Envelope xmlns:e=\"{Soap12}\"><e:Body><DoResponse xmlns=\"urn:raw\"/></e:Body></e:Envelope>",
            new Dictionary<string, string> { ["Content-Type"] = "application/soap+xml; charset=utf-8" }));

        var (_, body) = await relay.Silo.SendAndReadAsync(new { id = "soap12-raw-1", destination = "raw12", payload = "<Do xmlns=\"urn:raw\"><n>1</n></Do>" });

        Assert.Equal("Delivered", (string?)body["status"]);
        var request = Assert.Single(relay.Raw.ReceivedAt("/raw12"), r => r.Header("Idempotency-Key") == "soap12-raw-1");
        Assert.Equal("application/soap+xml; charset=utf-8; action=\"urn:raw/Do\"", request.Header("Content-Type"));
        Assert.Null(request.Header("SOAPAction"));
        var envelope = XDocument.Parse(request.Text).Root!;
        Assert.Equal(XName.Get("Envelope", Soap12), envelope.Name);
        var content = Assert.Single(envelope.Element(XName.Get("Body", Soap12))!.Elements());
        Assert.Equal(XName.Get("Do", "urn:raw"), content.Name);
        Assert.Equal("1", content.Element(XName.Get("n", "urn:raw"))!.Value);
    }

    [Fact]
    public async Task A_real_SOAP_1_2_service_is_delivered_to()
    {
        var (_, body) = await relay.Silo.SendAndReadAsync(new { id = "soap12-real-1", destination = "billing12", payload = BillPayload(12, "twelve") });

        Assert.Equal("Delivered", (string?)body["status"]);
        Assert.Contains("invoice-for-twelve-12", (string?)body["deliveries"]![0]!["response"]!["body"], StringComparison.Ordinal);
        Assert.Single(relay.Billing.Calls, c => c.Customer == "twelve");
    }

    [Fact]
    public async Task A_payload_that_already_is_an_envelope_is_sent_as_it_is()
    {
        var envelope = $"<soap:Envelope xmlns:soap=\"{Soap11}\">\n  <soap:Header><Trace xmlns=\"urn:raw\">t-1</Trace></soap:Header>\n  <soap:Body><Do xmlns=\"urn:raw\"/></soap:Body>\n</soap:Envelope>";
        relay.Raw.Answer("/raw11", new Reply(200, $"<s:Envelope xmlns:s=\"{Soap11}\"><s:Body/></s:Envelope>", Xml));

        var (_, body) = await relay.Silo.SendAndReadAsync(new { id = "soap-asis-1", destination = "raw11", payload = envelope });

        Assert.Equal("Delivered", (string?)body["status"]);
        var request = Assert.Single(relay.Raw.ReceivedAt("/raw11"), r => r.Header("Idempotency-Key") == "soap-asis-1");
        Assert.Equal(envelope, request.Text);
        Assert.Equal("\"urn:raw/Do\"", request.Header("SOAPAction"));
    }

    [Fact]
    public async Task A_UsernameToken_from_the_configuration_is_accepted_by_a_WS_Security_service_and_the_password_is_never_logged()
    {
        var (_, body) = await relay.Silo.SendAndReadAsync(new { id = "soap-secure-1", destination = "secure", payload = BillPayload(7, "secured") });

        Assert.Equal("Delivered", (string?)body["status"]);
        Assert.Single(relay.SecureBilling.Calls, c => c.Customer == "secured");

        // The wrong password is refused by the service (a Client fault): final at once.
        var (_, refused) = await relay.Silo.SendAndReadAsync(new { id = "soap-secure-2", destination = "wrong-password", payload = BillPayload(7, "intruder") });
        Assert.Equal("DeadLettered", (string?)refused["status"]);
        Assert.Equal(1, (int?)refused["deliveries"]![0]!["attempts"]);
        Assert.StartsWith("SOAP fault Client", (string?)refused["deliveries"]![0]!["lastError"], StringComparison.Ordinal);
        Assert.DoesNotContain(relay.SecureBilling.Calls, c => c.Customer == "intruder");

        var leaks = relay.Logs.Lines.Where(l => l.Contains(SoapDestinationFixture.Password, StringComparison.Ordinal)).ToList();
        Assert.True(leaks.Count == 0, "password logged in:\n" + string.Join("\n", leaks));
    }

    [Fact]
    public async Task A_Client_fault_from_a_real_service_dead_letters_at_once_with_its_reason()
    {
        var (response, body) = await relay.Silo.SendAndReadAsync(new { id = "soap-client-fault-1", destination = "billing", payload = BillPayload(-5, "negative") });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("DeadLettered", (string?)body["status"]);
        var delivery = body["deliveries"]![0]!;
        Assert.Equal(1, (int?)delivery["attempts"]);
        Assert.Equal("SOAP fault Client: Amount must be positive", (string?)delivery["lastError"]);
        Assert.Equal(500, (int?)delivery["response"]!["statusCode"]);
        Assert.Single(relay.Billing.Calls, c => c.Customer == "negative");
    }

    [Fact]
    public async Task A_Server_fault_is_retried_and_a_later_attempt_delivers()
    {
        relay.Billing.ServerFaultsLeft = 1;

        var (response, body) = await relay.Silo.SendAndReadAsync(new { id = "soap-server-fault-1", destination = "billing", payload = BillPayload(9, "flaky") });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("InRetry", (string?)body["status"]);
        Assert.Equal("SOAP fault Server: Billing database is down", (string?)body["deliveries"]![0]!["lastError"]);
        var final = await relay.Silo.WaitForStatusAsync("soap-server-fault-1", "Delivered");
        Assert.Equal(2, (int?)final!["deliveries"]![0]!["attempts"]);
        Assert.Equal(["RetryableFailure", "Success"], final["attempts"]!.AsArray().Select(a => (string?)a!["outcome"]));
        Assert.Equal(2, relay.Billing.Calls.Count(c => c.Customer == "flaky"));
    }

    [Fact]
    public async Task A_Server_fault_is_final_when_RetryOnServerFault_is_off()
    {
        relay.Raw.Answer("/no-server-retry", new Reply(500, Fault11("Server", "Try later"), Xml));

        var (_, body) = await relay.Silo.SendAndReadAsync(new { id = "soap-no-retry-1", destination = "no-server-retry", payload = "<Do xmlns=\"urn:raw\"/>" });

        Assert.Equal("DeadLettered", (string?)body["status"]);
        Assert.Equal("SOAP fault Server: Try later", (string?)body["deliveries"]![0]!["lastError"]);
        Assert.Single(relay.Raw.ReceivedAt("/no-server-retry"));
    }

    [Fact]
    public async Task A_SOAP_1_2_Receiver_fault_is_retryable_and_a_Sender_fault_is_final()
    {
        var receiver = $"<e:Envelope xmlns:e=\"{Soap12}\"><e:Body><e:Fault><e:Code><e:Value>e:Receiver</e:Value></e:Code><e:Reason><e:Text xml:lang=\"en\">Busy</e:Text></e:Reason></e:Fault></e:Body></e:Envelope>";
        var sender = receiver.Replace("e:Receiver", "e:Sender", StringComparison.Ordinal).Replace("Busy", "Bad order", StringComparison.Ordinal);
        relay.Raw.Script("/raw12", new Reply(500, receiver, Xml), new Reply(500, sender, Xml));

        var (_, body) = await relay.Silo.SendAndReadAsync(new { id = "soap12-faults-1", destination = "raw12", payload = "<Do xmlns=\"urn:raw\"/>" });

        Assert.Equal("InRetry", (string?)body["status"]);
        Assert.Equal("SOAP fault Receiver: Busy", (string?)body["deliveries"]![0]!["lastError"]);
        var final = await relay.Silo.WaitForStatusAsync("soap12-faults-1", "DeadLettered");
        Assert.Equal(2, (int?)final!["deliveries"]![0]!["attempts"]);
        Assert.Equal("SOAP fault Sender: Bad order", (string?)final["deliveries"]![0]!["lastError"]);
    }

    [Fact]
    public async Task An_HTTP_503_without_a_fault_is_retryable_and_a_400_without_a_fault_is_final()
    {
        relay.Raw.Script("/raw11", new Reply(503, "down"), new Reply(400, "bad"));

        var (_, body) = await relay.Silo.SendAndReadAsync(new { id = "soap-http-1", destination = "raw11", payload = "<Do xmlns=\"urn:raw\"/>" });

        Assert.Equal("InRetry", (string?)body["status"]);
        Assert.Equal("503 Service Unavailable", (string?)body["deliveries"]![0]!["lastError"]);
        var final = await relay.Silo.WaitForStatusAsync("soap-http-1", "DeadLettered");
        Assert.Equal(2, (int?)final!["deliveries"]![0]!["attempts"]);
        Assert.Equal("400 Bad Request", (string?)final["deliveries"]![0]!["lastError"]);
    }

    [Fact]
    public async Task No_answer_is_retryable_until_MaxAttempts()
    {
        var (_, body) = await relay.Silo.SendAndReadAsync(new { id = "soap-refused-1", destination = "nowhere", payload = "<Do xmlns=\"urn:raw\"/>" });

        Assert.Equal("InRetry", (string?)body["status"]);
        Assert.Equal("Connection refused", (string?)body["deliveries"]![0]!["lastError"]);
        var final = await relay.Silo.WaitForStatusAsync("soap-refused-1", "DeadLettered");
        Assert.Equal(3, (int?)final!["deliveries"]![0]!["attempts"]);
    }

    [Fact]
    public async Task A_payload_that_is_not_XML_dead_letters_at_once_without_a_request()
    {
        var (_, body) = await relay.Silo.SendAndReadAsync(new { id = "soap-not-xml-1", destination = "raw11", payload = "{\"amount\": 200}" });

        Assert.Equal("DeadLettered", (string?)body["status"]);
        Assert.Contains("text outside any element", (string?)body["deliveries"]![0]!["lastError"], StringComparison.Ordinal);
        Assert.DoesNotContain(relay.Raw.Received, r => r.Header("Idempotency-Key") == "soap-not-xml-1");
    }

    [Fact]
    public async Task A_payload_with_a_DOCTYPE_dead_letters_without_resolving_its_entities()
    {
        var payload = $"<!DOCTYPE Do [<!ENTITY % remote SYSTEM \"{relay.Raw.Url("/xxe-out")}\"> %remote; <!ENTITY e SYSTEM \"{relay.Raw.Url("/xxe-out")}\">]><Do xmlns=\"urn:raw\">&e;</Do>";

        var (_, body) = await relay.Silo.SendAndReadAsync(new { id = "soap-doctype-1", destination = "raw11", payload });

        Assert.Equal("DeadLettered", (string?)body["status"]);
        Assert.Contains("DOCTYPE", (string?)body["deliveries"]![0]!["lastError"], StringComparison.Ordinal);
        Assert.Empty(relay.Raw.ReceivedAt("/xxe-out"));
        Assert.DoesNotContain(relay.Raw.Received, r => r.Header("Idempotency-Key") == "soap-doctype-1");
    }

    [Fact]
    public async Task A_Server_fault_in_a_200_answer_is_still_a_fault()
    {
        relay.Raw.Script("/raw11", new Reply(200, Fault11("Server.Busy", "Queue full"), Xml));

        var (_, body) = await relay.Silo.SendAndReadAsync(new { id = "soap-200-fault-1", destination = "raw11", payload = "<Do xmlns=\"urn:raw\"/>" });

        Assert.Equal("InRetry", (string?)body["status"]);
        Assert.Equal("SOAP fault Server: Queue full", (string?)body["deliveries"]![0]!["lastError"]);
        await relay.Silo.WaitForStatusAsync("soap-200-fault-1", "Delivered");
    }

    [Fact]
    public async Task A_message_sent_over_SOAP_can_go_to_a_SOAP_destination()
    {
        // A stock WCF client of the front door (the front door's own tests are in Relay.Silo.Tests/Soap).
        var factory = new ChannelFactory<IMessagingService>(new BasicHttpBinding(), new EndpointAddress(new Uri(relay.Silo.Client.BaseAddress!, "/Messaging.svc")));
        SendResult result;
        try
        {
            result = await factory.CreateChannel().SendAsync(new SendRequest { Id = "soap-to-soap-1", Destination = "billing", Payload = BillPayload(31, "both-ways") });
        }
        finally
        {
            factory.Abort();
        }

        Assert.Equal(DeliveryStatus.Delivered, result.Status);
        Assert.Single(relay.Billing.Calls, c => c.Customer == "both-ways");
        JsonNode? json = await relay.Silo.GetMessageAsync("soap-to-soap-1");
        Assert.Equal("Delivered", (string?)json!["status"]);
    }
}
