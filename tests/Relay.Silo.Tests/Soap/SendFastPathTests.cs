using System.Xml.Linq;

namespace Relay.Silo.Tests.Soap;

/// <summary>
/// The fast path of the SOAP front door (issue 14): a <c>Send</c> without SOAP headers is served by Relay itself, every
/// other request by SoapCore as before. Both must answer alike: each test sends one request the fast way and the same
/// request with an empty <c>s:Header</c> (which SoapCore serves) and compares the two answers as XML.
/// </summary>
/// <remarks>
/// Which path served a request is read from the silo's log: SoapCore logs "Request for operation" for every request it
/// dispatches, the fast path logs nothing. The tests of one class run one at a time, on their own silo.
/// </remarks>
public sealed class SendFastPathTests(FrontDoorFixture relay) : IClassFixture<FrontDoorFixture>
{
    private const string SoapCoreServed = "Request for operation";

    [Fact]
    public async Task A_Send_is_served_without_SoapCore_and_answers_what_SoapCore_answers()
    {
        relay.Destination.Answer("/bill", new Reply(201, "{\"invoice\":8}", new Dictionary<string, string> { ["Location"] = "/invoices/8" }));
        var send = Envelope("fast-equal-1", "<Destination>billing</Destination><Payload>{\"amount\": 1}</Payload>"
            + "<Headers xmlns:a=\"http://schemas.microsoft.com/2003/10/Serialization/Arrays\"><a:KeyValueOfstringstring><a:Key>X-Tenant</a:Key><a:Value>acme</a:Value></a:KeyValueOfstringstring></Headers>"
            + "<CorrelationId>req-fast-1</CorrelationId>");

        var (first, firstServedBySoapCore) = await PostAsync(send);
        // Sent again, the same message answers its stored state: once more the fast way, once by SoapCore.
        var (fast, fastServedBySoapCore) = await PostAsync(send);
        var (soapCore, soapCoreServedBySoapCore) = await PostAsync(WithHeader(send));

        Assert.False(firstServedBySoapCore, "the first Send went to SoapCore");
        Assert.False(fastServedBySoapCore, "the repeated Send went to SoapCore");
        Assert.True(soapCoreServedBySoapCore, "SoapCore did not serve the Send with a SOAP Header");
        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal(HttpStatusCode.OK, fast.Status);
        Assert.Equal(HttpStatusCode.OK, soapCore.Status);
        Assert.Equal(soapCore.ContentType, fast.ContentType);
        AssertSameXml(soapCore.Body, fast.Body);
        AssertSameXml(soapCore.Body, first.Body);
        Assert.Contains("<Status>Delivered</Status>", fast.Body, StringComparison.Ordinal);
        var received = Assert.Single(relay.Destination.Received, r => r.Header("Idempotency-Key") == "fast-equal-1");
        Assert.Equal("acme", received.Header("X-Tenant"));
        Assert.Equal("req-fast-1", received.Header("X-Relay-Correlation-Id"));
    }

    [Fact]
    public async Task A_stock_WCF_clients_Send_is_served_by_the_fast_path()
    {
        await using var client = relay.Connect();
        var before = SoapCoreDispatches();

        var result = await client.Service.SendAsync(new SendRequest { Id = "fast-wcf-1", Destination = "billing", Payload = "p", CorrelationId = "c-1" });

        Assert.Equal(before, SoapCoreDispatches());
        Assert.Equal(DeliveryStatus.Delivered, result.Status);
        Assert.Equal("c-1", result.CorrelationId);
    }

    [Fact]
    public async Task A_Send_the_service_refuses_gets_the_fault_SoapCore_gives()
    {
        var send = Envelope("fast-fault-1", "<Destination>biling</Destination><Payload>x</Payload>");

        var (fast, fastServedBySoapCore) = await PostAsync(send);
        var (soapCore, soapCoreServedBySoapCore) = await PostAsync(WithHeader(send));

        Assert.False(fastServedBySoapCore, "the Send went to SoapCore");
        Assert.True(soapCoreServedBySoapCore, "SoapCore did not serve the Send with a SOAP Header");
        Assert.Equal(HttpStatusCode.InternalServerError, fast.Status);
        Assert.Equal(HttpStatusCode.InternalServerError, soapCore.Status);
        Assert.Equal(soapCore.ContentType, fast.ContentType);
        AssertSameXml(soapCore.Body, fast.Body);
        Assert.Contains("Unknown destination 'biling'.", fast.Body, StringComparison.Ordinal);
        Assert.Null(await relay.Silo.GetMessageAsync("fast-fault-1"));
    }

    [Theory]
    [InlineData("", "<Destination>billing</Destination><Payload>x</Payload><Headers>not a dictionary</Headers>")]
    [InlineData(" xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\" i:type=\"NotASendRequest\"", "<Destination>billing</Destination><Payload>x</Payload>")]
    public async Task A_Send_whose_request_does_not_deserialize_gets_SoapCores_fault(string attributes, string content)
    {
        var id = "fast-undeserializable-" + (attributes.Length + content.Length);
        var send = Envelope(id, content, attributes);

        var (fast, _) = await PostAsync(send);
        var (soapCore, soapCoreServedBySoapCore) = await PostAsync(WithHeader(send));

        Assert.True(soapCoreServedBySoapCore, "SoapCore did not serve the Send with a SOAP Header");
        Assert.Equal(HttpStatusCode.InternalServerError, fast.Status);
        Assert.Equal(HttpStatusCode.InternalServerError, soapCore.Status);
        AssertSameXml(soapCore.Body, fast.Body);
        Assert.True(fast.Body.Contains("The body does not match the operation's contract.", StringComparison.Ordinal), fast.Body);
        Assert.Null(await relay.Silo.GetMessageAsync(id));
    }

    [Fact]
    public async Task A_Send_nested_too_deep_inside_its_request_is_refused_and_nothing_is_stored()
    {
        // An element the contract does not know, which a deserializer skips unread: only a reader that counts depth
        // on every node it passes refuses it.
        const int levels = 70;
        var deep = string.Concat(Enumerable.Repeat("<Unknown>", levels)) + string.Concat(Enumerable.Repeat("</Unknown>", levels));
        var send = Envelope("fast-deep-1", "<Destination>billing</Destination>" + deep + "<Payload>x</Payload>");

        var (fast, _) = await PostAsync(send);

        Assert.Equal(HttpStatusCode.InternalServerError, fast.Status);
        var fault = XDocument.Parse(fast.Body).Descendants(XName.Get("Fault", RawSoap.Envelope11)).Single();
        Assert.Equal("s:Client", fault.Element("faultcode")!.Value);
        Assert.Contains("nests deeper than", fault.Element("faultstring")!.Value, StringComparison.Ordinal);
        Assert.Null(await relay.Silo.GetMessageAsync("fast-deep-1"));
        Assert.DoesNotContain(relay.Destination.Received, r => r.Header("Idempotency-Key") == "fast-deep-1");
    }

    [Fact]
    public async Task A_Send_with_a_SOAP_Header_or_another_action_goes_to_SoapCore()
    {
        var withHeader = await PostAsync(WithHeader(Envelope("fast-header-1", "<Destination>billing</Destination><Payload>x</Payload>")));
        var getStatus = await PostAsync(
            $"<s:Envelope xmlns:s=\"{RawSoap.Envelope11}\"><s:Body><GetStatus xmlns=\"{RawSoap.Messaging}\"><id>fast-header-1</id></GetStatus></s:Body></s:Envelope>",
            RawSoap.Messaging + "/IMessagingService/GetStatus");

        Assert.Equal(HttpStatusCode.OK, withHeader.Answer.Status);
        Assert.True(withHeader.ServedBySoapCore);
        Assert.Equal(HttpStatusCode.OK, getStatus.Answer.Status);
        Assert.True(getStatus.ServedBySoapCore);
        Assert.Contains("<Status>Delivered</Status>", getStatus.Answer.Body, StringComparison.Ordinal);
    }

    private static string Envelope(string id, string requestContent, string requestAttributes = "") =>
        $"<s:Envelope xmlns:s=\"{RawSoap.Envelope11}\"><s:Body><Send xmlns=\"{RawSoap.Messaging}\"><request{requestAttributes}><Id>{id}</Id>{requestContent}</request></Send></s:Body></s:Envelope>";

    private static string WithHeader(string envelope) => envelope.Replace("<s:Body>", "<s:Header/><s:Body>", StringComparison.Ordinal);

    private async Task<(Answer Answer, bool ServedBySoapCore)> PostAsync(string envelope, string action = RawSoap.SendAction)
    {
        var before = SoapCoreDispatches();
        using var response = await RawSoap.PostAsync(relay.Silo.Client, RawSoap.Content(envelope), action);
        var answer = new Answer(response.StatusCode, response.Content.Headers.ContentType?.ToString(), await response.Content.ReadAsStringAsync());
        return (answer, SoapCoreDispatches() > before);
    }

    private int SoapCoreDispatches() => relay.Logs.Lines.Count(l => l.Contains(SoapCoreServed, StringComparison.Ordinal));

    /// <summary>The same elements, attributes and text, whatever the prefixes and wherever the namespaces are declared.</summary>
    private static void AssertSameXml(string expected, string actual)
    {
        static XElement Normalized(string xml)
        {
            var root = XDocument.Parse(xml).Root!;
            foreach (var element in root.DescendantsAndSelf())
            {
                element.Attributes().Where(a => a.IsNamespaceDeclaration).Remove();
            }

            return root;
        }

        Assert.True(XNode.DeepEquals(Normalized(expected), Normalized(actual)), $"expected:\n{expected}\nactual:\n{actual}");
    }

    private sealed record Answer(HttpStatusCode Status, string? ContentType, string Body);
}
