using System.ServiceModel;
using System.Xml;

namespace Relay.Silo.Tests.Soap;

/// <summary>A stock WCF client (ChannelFactory over BasicHttpBinding, the contract assembly alone) against a real silo.</summary>
public sealed class WcfClientTests(FrontDoorFixture relay) : IClassFixture<FrontDoorFixture>
{
    [Fact]
    public async Task Send_delivers_and_answers_the_same_fields_as_the_JSON_API()
    {
        relay.Destination.Answer("/bill", new Reply(201, "{\"invoice\":7}", new Dictionary<string, string> { ["Location"] = "/invoices/7" }));
        await using var client = relay.Connect();

        var result = await client.Service.SendAsync(new SendRequest
        {
            Id = "soap-send-1",
            Destination = "billing",
            Payload = "{\"amount\": 200}",
            ContentType = "application/json",
            Headers = new Dictionary<string, string> { ["X-Tenant"] = "acme" },
            CorrelationId = "req-9",
        });

        Assert.Equal("soap-send-1", result.Id);
        Assert.Equal(DeliveryStatus.Delivered, result.Status);
        Assert.Equal("req-9", result.CorrelationId);
        var delivery = Assert.Single(result.Deliveries);
        Assert.Equal("billing", delivery.Destination);
        Assert.Equal(DeliveryStatus.Delivered, delivery.Status);
        Assert.Equal(1, delivery.Attempts);
        Assert.Equal(201, delivery.Response!.StatusCode);
        Assert.Equal("{\"invoice\":7}", delivery.Response.Body);
        Assert.Equal("/invoices/7", delivery.Response.Headers!["Location"]);

        var received = Assert.Single(relay.Destination.Received, r => r.Header("Idempotency-Key") == "soap-send-1");
        Assert.Equal("{\"amount\": 200}", received.Text);
        Assert.Equal("acme", received.Header("X-Tenant"));
        Assert.Equal("req-9", received.Header("X-Relay-Correlation-Id"));

        // The JSON API sees the same message: one store, one code path.
        var json = await relay.Silo.GetMessageAsync("soap-send-1");
        Assert.Equal("Delivered", (string?)json!["status"]);
        Assert.Equal(result.AcceptedAt, DateTimeOffset.Parse((string)json["acceptedAt"]!, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task GetStatus_answers_the_state_with_the_audit_trail()
    {
        relay.Destination.Script("/ship", Reply.Status503, Reply.Ok());
        await using var client = relay.Connect();

        var sent = await client.Service.SendAsync(new SendRequest { Id = "soap-status-1", Destination = "shipping", Payload = "box" });
        Assert.Equal(DeliveryStatus.InRetry, sent.Status);
        Assert.Equal("503 Service Unavailable", sent.Deliveries[0].LastError);
        Assert.NotNull(sent.Deliveries[0].NextAttemptAt);

        var final = await Eventually.Until(() => client.Service.GetStatusAsync("soap-status-1"), r => r.Status == DeliveryStatus.Delivered, what: "delivered after a retry");
        Assert.Equal(2, final.Deliveries[0].Attempts);
        Assert.Equal([AttemptOutcome.RetryableFailure, AttemptOutcome.Success], final.Attempts!.Select(a => a.Outcome));
        Assert.All(final.Attempts!, a => Assert.False(string.IsNullOrEmpty(a.Silo)));
    }

    [Fact]
    public async Task A_topic_fans_out_and_a_message_sent_by_JSON_reads_the_same_over_SOAP()
    {
        var response = await relay.Silo.SendAsync(new { id = "json-then-soap", topic = "order.created", payload = "created" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var client = relay.Connect();

        var status = await client.Service.GetStatusAsync("json-then-soap");

        Assert.Equal(DeliveryStatus.Delivered, status.Status);
        Assert.Equal("order.created", status.Topic);
        Assert.Equal(["billing", "shipping"], status.Deliveries.Select(d => d.Destination).Order());
    }

    [Fact]
    public async Task The_same_id_with_the_same_content_answers_the_existing_state_and_sends_nothing_new()
    {
        await using var client = relay.Connect();
        var request = new SendRequest { Id = "soap-idem-1", Destination = "billing", Payload = "once" };

        var first = await client.Service.SendAsync(request);
        var again = await client.Service.SendAsync(request);
        // The JSON front door agrees: the same id and content is the same message.
        var viaJson = await relay.Silo.SendAsync(new { id = "soap-idem-1", destination = "billing", payload = "once" });

        Assert.Equal(DeliveryStatus.Delivered, again.Status);
        Assert.Equal(first.AcceptedAt, again.AcceptedAt);
        Assert.Equal(HttpStatusCode.OK, viaJson.StatusCode);
        Assert.Single(relay.Destination.Received, r => r.Header("Idempotency-Key") == "soap-idem-1");
    }

    [Fact]
    public async Task The_same_id_with_other_content_is_a_Client_fault_409()
    {
        await using var client = relay.Connect();
        await client.Service.SendAsync(new SendRequest { Id = "soap-idem-2", Destination = "billing", Payload = "first" });

        var fault = await Assert.ThrowsAsync<FaultException<RelayFault>>(() =>
            client.Service.SendAsync(new SendRequest { Id = "soap-idem-2", Destination = "billing", Payload = "second" }));

        Assert.Equal(409, fault.Detail.StatusCode);
        Assert.True(fault.Code.IsSenderFault, $"code {fault.Code.Name}");
        Assert.Single(relay.Destination.Received, r => r.Header("Idempotency-Key") == "soap-idem-2");
    }

    [Fact]
    public async Task An_unknown_destination_is_a_Client_fault_naming_it_and_nothing_is_stored()
    {
        await using var client = relay.Connect();

        var fault = await Assert.ThrowsAsync<FaultException<RelayFault>>(() =>
            client.Service.SendAsync(new SendRequest { Id = "soap-unknown-1", Destination = "biling", Payload = "x" }));

        Assert.Equal(400, fault.Detail.StatusCode);
        Assert.True(fault.Code.IsSenderFault, $"code {fault.Code.Name}");
        Assert.Contains("biling", fault.Reason.ToString(), StringComparison.Ordinal);
        Assert.Equal(fault.Detail.Title, fault.Reason.ToString()[..fault.Detail.Title.Length]);
        await AssertNothingStored(client, "soap-unknown-1");
    }

    [Fact]
    public async Task A_header_the_destination_configures_is_a_Client_fault_naming_it_and_nothing_is_stored_or_sent()
    {
        await using var client = relay.Connect();

        var fault = await Assert.ThrowsAsync<FaultException<RelayFault>>(() => client.Service.SendAsync(new SendRequest
        {
            Id = "soap-configured-1", Destination = "tenanted", Payload = "x",
            Headers = new Dictionary<string, string> { ["x-tenant"] = "other" },
        }));

        Assert.Equal(400, fault.Detail.StatusCode);
        Assert.True(fault.Code.IsSenderFault, $"code {fault.Code.Name}");
        Assert.Contains("'x-tenant'", fault.Detail.Title, StringComparison.Ordinal);
        Assert.DoesNotContain("acme", fault.Reason.ToString(), StringComparison.Ordinal);
        await AssertNothingStored(client, "soap-configured-1");
        Assert.Empty(relay.Destination.ReceivedAt("/tenant"));
    }

    [Fact]
    public async Task An_empty_payload_is_a_Client_fault_and_nothing_is_stored()
    {
        await using var client = relay.Connect();

        var fault = await Assert.ThrowsAsync<FaultException<RelayFault>>(() =>
            client.Service.SendAsync(new SendRequest { Id = "soap-empty-1", Destination = "billing", Payload = "" }));

        Assert.Equal(400, fault.Detail.StatusCode);
        Assert.Contains("payload", fault.Reason.ToString(), StringComparison.OrdinalIgnoreCase);
        await AssertNothingStored(client, "soap-empty-1");
    }

    [Fact]
    public async Task A_payload_over_the_limit_is_a_Client_fault_413_and_nothing_is_stored()
    {
        await using var client = relay.Connect();

        var fault = await Assert.ThrowsAsync<FaultException<RelayFault>>(() => client.Service.SendAsync(new SendRequest
        {
            Id = "soap-large-1",
            Destination = "billing",
            Payload = new string('x', FrontDoorFixture.MaxPayloadBytes + 1),
        }));

        Assert.Equal(413, fault.Detail.StatusCode);
        Assert.Contains($"larger than {FrontDoorFixture.MaxPayloadBytes} bytes", fault.Reason.ToString(), StringComparison.Ordinal);
        Assert.True(fault.Code.IsSenderFault);
        await AssertNothingStored(client, "soap-large-1");
    }

    [Fact]
    public async Task A_payload_as_bytes_is_delivered_as_those_bytes()
    {
        await using var client = relay.Connect();
        byte[] bytes = [0, 1, 2, 0xFF, 0xFE];

        var result = await client.Service.SendAsync(new SendRequest { Id = "soap-bytes-1", Destination = "billing", PayloadBase64 = Convert.ToBase64String(bytes) });

        Assert.Equal(DeliveryStatus.Delivered, result.Status);
        var received = Assert.Single(relay.Destination.Received, r => r.Header("Idempotency-Key") == "soap-bytes-1");
        Assert.Equal(bytes, received.Body);
        Assert.Equal("application/octet-stream", received.Header("Content-Type"));
    }

    [Fact]
    public async Task A_long_answer_needs_the_binding_quotas_the_README_shows()
    {
        relay.Destination.Answer("/long", new Reply(200, new string('r', 60 * 1024)));
        await using var stock = relay.Connect();
        var binding = new BasicHttpBinding { MaxReceivedMessageSize = 16 * 1024 * 1024, ReaderQuotas = XmlDictionaryReaderQuotas.Max };
        var factory = new ChannelFactory<IMessagingService>(binding, new EndpointAddress(relay.ServiceUrl));
        var tuned = factory.CreateChannel();
        await relay.Silo.SendAsync(new { id = "soap-long-1", destination = "long", payload = "x" });

        await Assert.ThrowsAnyAsync<CommunicationException>(() => stock.Service.GetStatusAsync("soap-long-1"));
        var status = await tuned.GetStatusAsync("soap-long-1");
        ((IClientChannel)tuned).Abort();
        factory.Abort();

        Assert.Equal(60 * 1024, status.Deliveries[0].Response!.Body!.Length);
    }

    [Fact]
    public async Task GetStatus_of_an_unknown_id_is_a_Client_fault_404()
    {
        await using var client = relay.Connect();

        var fault = await Assert.ThrowsAsync<FaultException<RelayFault>>(() => client.Service.GetStatusAsync("no-such-message"));

        Assert.Equal(404, fault.Detail.StatusCode);
        Assert.Contains("no-such-message", fault.Reason.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_README_client_works_as_written()
    {
        // The lines of README.md, "Calling Relay over SOAP", against this silo (its "echo" is "billing" here).
        var binding = new BasicHttpBinding { MaxReceivedMessageSize = 16 << 20, ReaderQuotas = XmlDictionaryReaderQuotas.Max };
        var relayService = new ChannelFactory<IMessagingService>(binding, new EndpointAddress(relay.ServiceUrl)).CreateChannel();
        var sent = await relayService.SendAsync(new SendRequest { Id = "order-125", Destination = "billing", Payload = "{\"amount\": 200}", ContentType = "application/json" });
        var status = await relayService.GetStatusAsync("order-125");
        var fault = await Assert.ThrowsAsync<FaultException<RelayFault>>(() => relayService.SendAsync(new SendRequest { Destination = "nowhere", Payload = "x" }));
        ((IClientChannel)relayService).Abort();

        Assert.Equal(DeliveryStatus.Delivered, sent.Status);
        Assert.Single(status.Attempts!);
        Assert.Equal(400, fault.Detail.StatusCode);
        Assert.StartsWith("Unknown destination 'nowhere'.", fault.Reason.ToString(), StringComparison.Ordinal);
    }

    private async Task AssertNothingStored(WcfClient client, string id)
    {
        var notFound = await Assert.ThrowsAsync<FaultException<RelayFault>>(() => client.Service.GetStatusAsync(id));
        Assert.Equal(404, notFound.Detail.StatusCode);
        Assert.Null(await relay.Silo.GetMessageAsync(id));
        Assert.DoesNotContain(relay.Destination.Received, r => r.Header("Idempotency-Key") == id);
    }
}
