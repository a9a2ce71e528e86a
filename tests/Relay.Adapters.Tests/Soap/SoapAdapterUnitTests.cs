using System.Xml.Linq;
using Relay.Adapters.Soap;

namespace Relay.Adapters.Tests.Soap;

/// <summary>The SOAP adapter's pure parts: the envelope it builds, the faults it reads, the rule it classifies by.</summary>
public sealed class SoapAdapterUnitTests
{
    private const string Soap11 = "http://schemas.xmlsoap.org/soap/envelope/";
    private const string Soap12 = "http://www.w3.org/2003/05/soap-envelope";
    private const string Wsse = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static XElement Build(string payload, SoapVersion version, UsernameToken? token = null) =>
        XDocument.Parse(Encoding.UTF8.GetString(SoapEnvelope.Build(Utf8(payload), version, token, Now))).Root!;

    [Fact]
    public void Body_content_is_wrapped_without_its_XML_declaration()
    {
        var envelope = Build("<?xml version=\"1.0\" encoding=\"utf-8\"?><Bill xmlns=\"urn:a\"><amount>1</amount></Bill><Note xmlns=\"urn:a\"/>", SoapVersion.Soap11);

        Assert.Equal(XName.Get("Envelope", Soap11), envelope.Name);
        Assert.Null(envelope.Element(XName.Get("Header", Soap11)));
        var body = envelope.Element(XName.Get("Body", Soap11))!;
        Assert.Equal([XName.Get("Bill", "urn:a"), XName.Get("Note", "urn:a")], body.Elements().Select(e => e.Name));
        Assert.Equal("1", body.Element(XName.Get("Bill", "urn:a"))!.Element(XName.Get("amount", "urn:a"))!.Value);
    }

    [Fact]
    public void A_UsernameToken_goes_into_a_Security_header_with_nonce_and_creation_time()
    {
        var envelope = Build("<Do xmlns=\"urn:a\"/>", SoapVersion.Soap12, new UsernameToken("relay", "s3cret"));

        Assert.Equal(XName.Get("Envelope", Soap12), envelope.Name);
        var security = envelope.Element(XName.Get("Header", Soap12))!.Element(XName.Get("Security", Wsse))!;
        Assert.Equal("1", (string?)security.Attribute(XName.Get("mustUnderstand", Soap12)));
        var token = security.Element(XName.Get("UsernameToken", Wsse))!;
        Assert.Equal("relay", token.Element(XName.Get("Username", Wsse))!.Value);
        var password = token.Element(XName.Get("Password", Wsse))!;
        Assert.Equal("s3cret", password.Value);
        Assert.EndsWith("#PasswordText", (string?)password.Attribute("Type"), StringComparison.Ordinal);
        Assert.Equal(16, Convert.FromBase64String(token.Element(XName.Get("Nonce", Wsse))!.Value).Length);
        Assert.Equal("2026-11-23T10:00:00.000Z", token.Elements().Single(e => e.Name.LocalName == "Created").Value);
    }

    [Fact]
    public void An_envelope_goes_as_it_is_and_gets_the_token_header_added_when_configured()
    {
        var given = $"<s:Envelope xmlns:s=\"{Soap11}\"><s:Header><Trace xmlns=\"urn:a\">t</Trace></s:Header><s:Body><Do xmlns=\"urn:a\"/></s:Body></s:Envelope>";

        Assert.Equal(Utf8(given), SoapEnvelope.Build(Utf8(given), SoapVersion.Soap11, null, Now));
        var withToken = Build(given, SoapVersion.Soap11, new UsernameToken("relay", null));
        var header = withToken.Element(XName.Get("Header", Soap11))!;
        Assert.Equal([XName.Get("Security", Wsse), XName.Get("Trace", "urn:a")], header.Elements().Select(e => e.Name));
        Assert.Null(header.Descendants(XName.Get("Password", Wsse)).SingleOrDefault());
        Assert.Single(withToken.Element(XName.Get("Body", Soap11))!.Elements());
    }

    [Fact]
    public void An_envelope_without_a_header_gets_one_for_the_token()
    {
        var withToken = Build($"<s:Envelope xmlns:s=\"{Soap11}\"><s:Body><Do xmlns=\"urn:a\"/></s:Body></s:Envelope>", SoapVersion.Soap11, new UsernameToken("relay", "p"));

        Assert.Equal([XName.Get("Header", Soap11), XName.Get("Body", Soap11)], withToken.Elements().Select(e => e.Name));
    }

    [Theory]
    [InlineData("hello", "text outside any element")]
    [InlineData("<a>unclosed", "not well-formed")]
    [InlineData("<!-- only a comment -->", "no XML element")]
    [InlineData("<!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>", "DOCTYPE")]
    public void A_payload_that_cannot_be_a_SOAP_body_is_refused_with_a_reason(string payload, string reason)
    {
        var ex = Assert.Throws<SoapPayloadException>(() => SoapEnvelope.Build(Utf8(payload), SoapVersion.Soap11, null, Now));

        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_envelope_of_the_other_version_is_refused()
    {
        var ex = Assert.Throws<SoapPayloadException>(() =>
            SoapEnvelope.Build(Utf8($"<e:Envelope xmlns:e=\"{Soap12}\"><e:Body/></e:Envelope>"), SoapVersion.Soap11, null, Now));

        Assert.Contains("SOAP 1.2 envelope", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, "1.1")]
    [InlineData("1.1", "1.1")]
    [InlineData("1.2", "1.2")]
    [InlineData("Soap12", "1.2")]
    [InlineData("1.3", null)]
    public void SoapVersion_is_read_leniently(string? text, string? expected)
    {
        Assert.Equal(expected, SoapVersion.Parse(text)?.Name);
    }

    [Theory]
    [InlineData("<s:Envelope xmlns:s=\"" + Soap11 + "\"><s:Body><s:Fault><faultcode>s:Server</faultcode><faultstring>Down</faultstring></s:Fault></s:Body></s:Envelope>", "Server", "Down")]
    [InlineData("<s:Envelope xmlns:s=\"" + Soap11 + "\"><s:Header><h:Fault xmlns:h=\"" + Soap11 + "\"/></s:Header><s:Body><s:Fault><faultstring>Bad</faultstring><faultcode>x:Client.Validation</faultcode></s:Fault></s:Body></s:Envelope>", "Client", "Bad")]
    [InlineData("<e:Envelope xmlns:e=\"" + Soap12 + "\"><e:Body><e:Fault><e:Code><e:Value>e:Receiver</e:Value><e:Subcode><e:Value>x:Busy</e:Value></e:Subcode></e:Code><e:Reason><e:Text xml:lang=\"en\">Busy</e:Text></e:Reason></e:Fault></e:Body></e:Envelope>", "Receiver", "Busy")]
    public void A_fault_is_read_with_its_code_and_reason(string body, string code, string reason)
    {
        var fault = SoapFault.Read(body);

        Assert.Equal(new SoapFault(code, reason), fault);
    }

    [Fact]
    public void A_fault_cut_at_the_body_limit_is_still_read_when_its_code_came_first()
    {
        var body = $"<s:Envelope xmlns:s=\"{Soap11}\"><s:Body><s:Fault><faultcode>s:Server</faultcode><faultstring>Very long";

        Assert.Equal("Server", SoapFault.Read(body)!.Code);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("ok")]
    [InlineData("<html><body>503</body></html>")]
    [InlineData("<s:Envelope xmlns:s=\"" + Soap11 + "\"><s:Body><DoResponse xmlns=\"urn:a\"/></s:Body></s:Envelope>")]
    [InlineData("<!DOCTYPE s:Envelope [<!ENTITY x SYSTEM \"http://127.0.0.1:9/x\">]><s:Envelope xmlns:s=\"" + Soap11 + "\"><s:Body><s:Fault><faultcode>&x;</faultcode></s:Fault></s:Body></s:Envelope>")]
    public void A_body_without_a_fault_has_none(string? body)
    {
        Assert.Null(SoapFault.Read(body));
    }

    [Theory]
    [InlineData(200, null, true, AttemptOutcome.Success)]
    [InlineData(503, null, true, AttemptOutcome.RetryableFailure)]
    [InlineData(429, null, true, AttemptOutcome.RetryableFailure)]
    [InlineData(404, null, true, AttemptOutcome.NonRetryableFailure)]
    [InlineData(500, "Server", true, AttemptOutcome.RetryableFailure)]
    [InlineData(500, "Receiver", true, AttemptOutcome.RetryableFailure)]
    [InlineData(500, "Server", false, AttemptOutcome.NonRetryableFailure)]
    [InlineData(500, "Client", true, AttemptOutcome.NonRetryableFailure)]
    [InlineData(500, "Sender", true, AttemptOutcome.NonRetryableFailure)]
    [InlineData(500, "MustUnderstand", true, AttemptOutcome.NonRetryableFailure)]
    [InlineData(500, "VersionMismatch", true, AttemptOutcome.NonRetryableFailure)]
    [InlineData(200, "Server", true, AttemptOutcome.RetryableFailure)]
    [InlineData(503, "Client", true, AttemptOutcome.NonRetryableFailure)]
    public void Classification_follows_the_fault_code_then_the_HTTP_status(int status, string? faultCode, bool retryOnServerFault, AttemptOutcome expected)
    {
        var fault = faultCode is null ? null : new SoapFault(faultCode, "reason");

        Assert.Equal(expected, SoapFailureClassifier.Classify(status, fault, retryOnServerFault));
    }
}
