using System.Net.Http.Headers;

namespace Relay.Silo.Tests.Soap;

/// <summary>
/// What the front door refuses before anything is parsed or stored: DTDs and entities (XXE), oversized envelopes,
/// and requests that are not SOAP 1.1. Each answer is a SOAP fault a person can act on; nothing is stored or sent.
/// </summary>
public sealed class HostileEnvelopeTests(FrontDoorFixture relay) : IClassFixture<FrontDoorFixture>
{
    [Fact]
    public async Task An_external_entity_naming_a_local_file_is_refused_and_the_file_is_not_read()
    {
        var secret = "FILE-SECRET-" + Guid.NewGuid().ToString("N");
        var file = Path.Combine(Path.GetTempPath(), $"relay-xxe-{Guid.NewGuid():N}.txt");
        await File.WriteAllTextAsync(file, secret);
        try
        {
            var envelope = RawSoap.SendEnvelope("xxe-file-1", "billing", "&xxe;",
                prolog: $"<?xml version=\"1.0\"?><!DOCTYPE s:Envelope [<!ENTITY xxe SYSTEM \"{new Uri(file).AbsoluteUri}\">]>");

            var response = await RawSoap.PostAsync(relay.Silo.Client, RawSoap.Content(envelope));

            Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
            var (code, reason, status, text) = await RawSoap.ReadFaultAsync(response);
            Assert.Equal("s:Client", code);
            Assert.Contains("DOCTYPE", reason, StringComparison.Ordinal);
            Assert.Equal(400, status);
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
            await AssertNothingStoredOrSent("xxe-file-1");
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task External_entities_naming_an_HTTP_URL_are_refused_and_no_request_is_made()
    {
        var url = relay.Destination.Url("/xxe-in");
        var envelope = RawSoap.SendEnvelope("xxe-http-1", "billing", "&xxe;",
            prolog: $"<!DOCTYPE s:Envelope [<!ENTITY % remote SYSTEM \"{url}?parameter\"> %remote; <!ENTITY xxe SYSTEM \"{url}?general\">]>");

        var response = await RawSoap.PostAsync(relay.Silo.Client, RawSoap.Content(envelope));

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        var (code, reason, status, _) = await RawSoap.ReadFaultAsync(response);
        Assert.Equal("s:Client", code);
        Assert.Contains("DOCTYPE", reason, StringComparison.Ordinal);
        Assert.Equal(400, status);
        Assert.Empty(relay.Destination.ReceivedAt("/xxe-in"));
        await AssertNothingStoredOrSent("xxe-http-1");
    }

    [Fact]
    public async Task Internal_entity_expansion_is_refused_too()
    {
        var laughs = "<!DOCTYPE s:Envelope [<!ENTITY a \"lol\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]>";

        var response = await RawSoap.PostAsync(relay.Silo.Client, RawSoap.Content(RawSoap.SendEnvelope("laughs-1", "billing", "&c;", laughs)));

        var (code, reason, _, _) = await RawSoap.ReadFaultAsync(response);
        Assert.Equal("s:Client", code);
        Assert.Contains("DOCTYPE", reason, StringComparison.Ordinal);
        await AssertNothingStoredOrSent("laughs-1");
    }

    [Fact]
    public async Task An_envelope_whose_Content_Length_is_over_the_limit_is_refused_unread()
    {
        var envelope = Encoding.UTF8.GetBytes(RawSoap.SendEnvelope("huge-1", "billing", new string('x', 300 * 1024)));
        var content = new ByteArrayContent(envelope);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("text/xml; charset=utf-8");

        var response = await RawSoap.PostAsync(relay.Silo.Client, content);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        var (code, reason, status, _) = await RawSoap.ReadFaultAsync(response);
        Assert.Equal("s:Client", code);
        Assert.Equal(413, status);
        Assert.Contains("Relay:Limits:MaxPayloadBytes", reason, StringComparison.Ordinal);
        await AssertNothingStoredOrSent("huge-1");
    }

    [Fact]
    public async Task A_chunked_envelope_over_the_limit_is_refused_when_the_limit_is_reached()
    {
        var envelope = Encoding.UTF8.GetBytes(RawSoap.SendEnvelope("huge-chunked-1", "billing", new string('x', 300 * 1024)));
        var content = new RawSoap.ChunkedContent(envelope);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("text/xml; charset=utf-8");

        var response = await RawSoap.PostAsync(relay.Silo.Client, content);

        var (code, _, status, _) = await RawSoap.ReadFaultAsync(response);
        Assert.Equal("s:Client", code);
        Assert.Equal(413, status);
        await AssertNothingStoredOrSent("huge-chunked-1");
    }

    [Fact]
    public async Task A_chunked_envelope_under_the_limit_is_accepted()
    {
        var envelope = Encoding.UTF8.GetBytes(RawSoap.SendEnvelope("chunked-ok-1", "billing", "small"));
        var content = new RawSoap.ChunkedContent(envelope);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("text/xml; charset=utf-8");

        var response = await RawSoap.PostAsync(relay.Silo.Client, content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("<Status>Delivered</Status>", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not xml at all", "not well-formed XML")]
    [InlineData("<Send xmlns=\"urn:relay:messaging:v1\"/>", "not a SOAP 1.1 envelope")]
    [InlineData("<e:Envelope xmlns:e=\"http://www.w3.org/2003/05/soap-envelope\"><e:Body/></e:Envelope>", "not a SOAP 1.1 envelope")]
    public async Task A_body_that_is_not_a_SOAP_1_1_envelope_is_a_Client_fault(string body, string expected)
    {
        var response = await RawSoap.PostAsync(relay.Silo.Client, RawSoap.Content(body));

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        var (code, reason, status, _) = await RawSoap.ReadFaultAsync(response);
        Assert.Equal("s:Client", code);
        Assert.Contains(expected, reason, StringComparison.Ordinal);
        Assert.Equal(400, status);
    }

    [Fact]
    public async Task SOAP_1_2_content_is_refused_with_415_and_a_fault_that_says_what_to_use()
    {
        var response = await RawSoap.PostAsync(relay.Silo.Client, RawSoap.Content(RawSoap.SendEnvelope("soap12-1", "billing", "x"), "application/soap+xml; charset=utf-8"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        var (_, reason, _, _) = await RawSoap.ReadFaultAsync(response);
        Assert.Contains("text/xml", reason, StringComparison.Ordinal);
        await AssertNothingStoredOrSent("soap12-1");
    }

    [Fact]
    public async Task A_request_without_SOAPAction_is_dispatched_by_its_body_element()
    {
        var response = await RawSoap.PostAsync(relay.Silo.Client, RawSoap.Content(RawSoap.SendEnvelope("no-action-1", "billing", "x")), action: null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("<Status>Delivered</Status>", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_operation_is_a_Client_fault_naming_the_ones_there_are()
    {
        var deleteBody = $"<s:Envelope xmlns:s=\"{RawSoap.Envelope11}\"><s:Body><Delete xmlns=\"{RawSoap.Messaging}\"><id>x</id></Delete></s:Body></s:Envelope>";
        var unknownAction = await RawSoap.PostAsync(relay.Silo.Client, RawSoap.Content(RawSoap.SendEnvelope("unknown-op-1", "billing", "x")), action: RawSoap.Messaging + "/IMessagingService/Delete");
        var unknownBody = await RawSoap.PostAsync(relay.Silo.Client, RawSoap.Content(deleteBody), action: null);

        foreach (var response in new[] { unknownAction, unknownBody })
        {
            Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
            var (code, reason, status, _) = await RawSoap.ReadFaultAsync(response);
            Assert.Equal("s:Client", code);
            Assert.Contains("IMessagingService/Send", reason, StringComparison.Ordinal);
            Assert.Equal(400, status);
        }

        await AssertNothingStoredOrSent("unknown-op-1");
    }

    [Fact]
    public async Task SoapCore_operation_urls_are_not_a_door_into_Relay()
    {
        var get = await relay.Silo.Client.GetAsync("/Messaging.svc/GetStatus?id=anything");
        var post = await relay.Silo.Client.PostAsync("/Messaging.svc/Send", new FormUrlEncodedContent([new("request", "x")]));
        var put = await relay.Silo.Client.PutAsync("/Messaging.svc", RawSoap.Content(RawSoap.SendEnvelope("put-1", "billing", "x")));

        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, post.StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, put.StatusCode);
        await AssertNothingStoredOrSent("put-1");
    }

    [Fact]
    public async Task Bad_SOAP_requests_are_answered_with_faults_and_not_logged_as_errors()
    {
        var before = relay.Logs.Lines.Count;
        var doctype = RawSoap.SendEnvelope("logged-bad-1", "billing", "&x;", "<!DOCTYPE s:Envelope [<!ENTITY x \"PAYLOAD-SECRET-1\">]>");
        var unknown = RawSoap.SendEnvelope("logged-bad-2", "unknown-destination", "PAYLOAD-SECRET-2");

        var faults = new[]
        {
            await RawSoap.PostAsync(relay.Silo.Client, RawSoap.Content(doctype)),
            await RawSoap.PostAsync(relay.Silo.Client, RawSoap.Content(unknown)),
            await RawSoap.PostAsync(relay.Silo.Client, RawSoap.Content(unknown), action: RawSoap.Messaging + "/IMessagingService/Nope"),
        };

        Assert.All(faults, f => Assert.Equal(HttpStatusCode.InternalServerError, f.StatusCode));
        var lines = relay.Logs.Lines.Skip(before).ToList();
        Assert.DoesNotContain(lines, l => l.StartsWith("Error", StringComparison.Ordinal) || l.StartsWith("Critical", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("PAYLOAD-SECRET", StringComparison.Ordinal));
    }

    private async Task AssertNothingStoredOrSent(string id)
    {
        Assert.Null(await relay.Silo.GetMessageAsync(id));
        Assert.DoesNotContain(relay.Destination.Received, r => r.Header("Idempotency-Key") == id);
    }
}
