using System.Xml;
using System.Xml.Linq;
using System.Xml.Schema;

namespace Relay.Silo.Tests.Soap;

/// <summary>
/// A client made from the WSDL alone (dotnet-svcutil is not in our registry): every element name, namespace, field
/// order and SOAPAction of its requests is read from <c>/Messaging.svc?wsdl</c>, and requests and answers are
/// validated against the WSDL's schemas, so the WSDL describes exactly what Relay reads and writes.
/// </summary>
public sealed class WsdlClientTests(FrontDoorFixture relay) : IClassFixture<FrontDoorFixture>
{
    [Fact]
    public async Task The_WSDL_describes_Send_and_GetStatus_over_SOAP_1_1_in_the_messaging_namespace()
    {
        var wsdl = await WsdlClient.LoadAsync(relay.Silo.Client);

        Assert.Equal("urn:relay:messaging:v1", wsdl.TargetNamespace);
        Assert.Equal(["GetStatus", "Send"], wsdl.Operations.Order());
        Assert.Equal("urn:relay:messaging:v1/IMessagingService/Send", wsdl.SoapAction("Send"));
        Assert.Equal("urn:relay:messaging:v1/IMessagingService/GetStatus", wsdl.SoapAction("GetStatus"));
        Assert.Equal(relay.ServiceUrl, wsdl.Address);
        Assert.Equal("http://schemas.xmlsoap.org/soap/http", wsdl.Transport);
        Assert.Equal(
            ["Id", "Destination", "Topic", "Payload", "PayloadBase64", "ContentType", "Headers", "Contract", "Notify", "OrderingKey", "CorrelationId", "Ebms"],
            wsdl.Fields(wsdl.Parameters("Send").Single().Type));
    }

    [Fact]
    public async Task A_client_made_from_the_WSDL_sends_reads_status_and_gets_faults_all_valid_against_its_schemas()
    {
        var wsdl = await WsdlClient.LoadAsync(relay.Silo.Client);

        var sent = await wsdl.CallAsync(relay.Silo.Client, "Send", new Dictionary<string, object>
        {
            ["Id"] = "wsdl-1",
            ["Destination"] = "billing",
            ["Payload"] = "from a WSDL client",
            ["Headers"] = new Dictionary<string, string> { ["X-Tenant"] = "acme" },
        });
        Assert.Equal(HttpStatusCode.OK, sent.Status);
        Assert.Equal("wsdl-1", sent.Field("Id"));
        Assert.Equal("Delivered", sent.Field("Status"));
        var received = Assert.Single(relay.Destination.Received, r => r.Header("Idempotency-Key") == "wsdl-1");
        Assert.Equal("from a WSDL client", received.Text);
        Assert.Equal("acme", received.Header("X-Tenant"));

        var status = await wsdl.CallAsync(relay.Silo.Client, "GetStatus", "wsdl-1");
        Assert.Equal(HttpStatusCode.OK, status.Status);
        Assert.Equal("Delivered", status.Field("Status"));

        var fault = await wsdl.CallAsync(relay.Silo.Client, "Send", new Dictionary<string, object> { ["Destination"] = "nowhere", ["Payload"] = "x" });
        Assert.Equal(HttpStatusCode.InternalServerError, fault.Status);
        Assert.Equal("400", fault.Field("StatusCode"));
    }
}

/// <summary>Just enough of a WSDL 1.1 reader to call a document/literal SOAP 1.1 service from its description.</summary>
public sealed class WsdlClient
{
    private static readonly XNamespace W = "http://schemas.xmlsoap.org/wsdl/";
    private static readonly XNamespace S = "http://schemas.xmlsoap.org/wsdl/soap/";
    private static readonly XNamespace Xs = "http://www.w3.org/2001/XMLSchema";
    private static readonly XNamespace Envelope = RawSoap.Envelope11;
    private static readonly XNamespace Arrays = "http://schemas.microsoft.com/2003/10/Serialization/Arrays";

    private readonly XElement _definitions;
    private readonly XmlSchemaSet _schemas = new();

    private WsdlClient(XElement definitions)
    {
        _definitions = definitions;
        foreach (var schema in definitions.Element(W + "types")!.Elements(Xs + "schema"))
        {
            using var reader = schema.CreateReader();
            _schemas.Add(XmlSchema.Read(reader, (_, e) => throw e.Exception)!);
        }

        _schemas.Compile();
    }

    public static async Task<WsdlClient> LoadAsync(HttpClient client)
    {
        var response = await client.GetAsync("/Messaging.svc?wsdl");
        response.EnsureSuccessStatusCode();
        return new WsdlClient(XDocument.Parse(await response.Content.ReadAsStringAsync()).Root!);
    }

    public string TargetNamespace => (string)_definitions.Attribute("targetNamespace")!;

    public IEnumerable<string> Operations => PortType.Elements(W + "operation").Select(o => (string)o.Attribute("name")!);

    public Uri Address => new((string)_definitions.Element(W + "service")!.Element(W + "port")!.Element(S + "address")!.Attribute("location")!);

    public string Transport => (string)Binding.Element(S + "binding")!.Attribute("transport")!;

    public string SoapAction(string operation) =>
        (string)Binding.Elements(W + "operation").Single(o => (string?)o.Attribute("name") == operation).Element(S + "operation")!.Attribute("soapAction")!;

    private XElement PortType => _definitions.Element(W + "portType")!;

    private XElement Binding => _definitions.Element(W + "binding")!;

    /// <summary>The global element of the operation's input or output message.</summary>
    public XmlQualifiedName MessageElement(string operation, string direction)
    {
        var reference = (string)PortType.Elements(W + "operation").Single(o => (string?)o.Attribute("name") == operation).Element(W + direction)!.Attribute("message")!;
        var message = _definitions.Elements(W + "message").Single(m => (string?)m.Attribute("name") == Local(reference));
        var element = message.Element(W + "part")!.Attribute("element")!;
        return Resolve(element, (string)element);
    }

    /// <summary>The operation's parameters: the children of its input element, in order, with their schema types.</summary>
    public IReadOnlyList<(string Name, XmlQualifiedName Type)> Parameters(string operation) =>
        Sequence(((XmlSchemaElement)_schemas.GlobalElements[MessageElement(operation, "input")]!).ElementSchemaType!);

    /// <summary>The fields of a complex type, in the order the schema (and the serializer) wants them.</summary>
    public IReadOnlyList<string> Fields(XmlQualifiedName type) =>
        Sequence((XmlSchemaType)_schemas.GlobalTypes[type]!).Select(f => f.Name).ToList();

    /// <summary>Calls the operation with one argument (a text, or fields of a complex type) and validates both messages.</summary>
    public async Task<WsdlAnswer> CallAsync(HttpClient client, string operation, object argument)
    {
        var input = MessageElement(operation, "input");
        var parameter = Parameters(operation).Single();
        XNamespace ns = input.Namespace;
        var argumentElement = new XElement(ns + parameter.Name);
        if (argument is string text)
        {
            argumentElement.Value = text;
        }
        else
        {
            var values = (IDictionary<string, object>)argument;
            foreach (var field in Fields(parameter.Type).Where(values.ContainsKey))
            {
                argumentElement.Add(values[field] is IDictionary<string, string> map
                    ? new XElement(ns + field, map.Select(p => new XElement(Arrays + "KeyValueOfstringstring", new XElement(Arrays + "Key", p.Key), new XElement(Arrays + "Value", p.Value))))
                    : new XElement(ns + field, values[field]));
            }
        }

        var body = new XElement(XName.Get(input.Name, input.Namespace), argumentElement);
        Validate(body);
        var envelope = new XDocument(new XElement(Envelope + "Envelope", new XAttribute(XNamespace.Xmlns + "s", Envelope.NamespaceName), new XElement(Envelope + "Body", body)));
        using var request = new HttpRequestMessage(HttpMethod.Post, Address) { Content = RawSoap.Content(envelope.ToString(SaveOptions.DisableFormatting)) };
        request.Headers.TryAddWithoutValidation("SOAPAction", $"\"{SoapAction(operation)}\"");
        using var response = await client.SendAsync(request);
        var answer = XDocument.Parse(await response.Content.ReadAsStringAsync()).Root!.Element(Envelope + "Body")!.Elements().Single();
        if (answer.Name == Envelope + "Fault")
        {
            // The detail is the message of the operation's fault in the WSDL.
            var detail = answer.Element("detail")!.Elements().Single();
            Assert.Equal(FaultElement(operation), new XmlQualifiedName(detail.Name.LocalName, detail.Name.NamespaceName));
            Validate(detail);
            return new WsdlAnswer(response.StatusCode, detail);
        }

        var output = MessageElement(operation, "output");
        Assert.Equal(output, new XmlQualifiedName(answer.Name.LocalName, answer.Name.NamespaceName));
        Validate(answer);
        var result = Sequence(((XmlSchemaElement)_schemas.GlobalElements[output]!).ElementSchemaType!).Single();
        return new WsdlAnswer(response.StatusCode, answer.Element(XName.Get(result.Name, output.Namespace))!);
    }

    private XmlQualifiedName FaultElement(string operation)
    {
        var reference = (string)PortType.Elements(W + "operation").Single(o => (string?)o.Attribute("name") == operation).Element(W + "fault")!.Attribute("message")!;
        var element = _definitions.Elements(W + "message").Single(m => (string?)m.Attribute("name") == Local(reference)).Element(W + "part")!.Attribute("element")!;
        return Resolve(element, (string)element);
    }

    private void Validate(XElement element)
    {
        var document = new XDocument(new XElement(element));
        var errors = new List<string>();
        document.Validate(_schemas, (_, e) => errors.Add(e.Message));
        Assert.True(errors.Count == 0, $"{element.Name} does not match the WSDL:\n{string.Join("\n", errors)}\n{element}");
    }

    private static IReadOnlyList<(string Name, XmlQualifiedName Type)> Sequence(XmlSchemaType type) =>
        ((XmlSchemaSequence)((XmlSchemaComplexType)type).ContentTypeParticle).Items.Cast<XmlSchemaElement>()
            .Select(e => (e.QualifiedName.Name, e.ElementSchemaType!.QualifiedName))
            .ToList();

    private static string Local(string qualified) => qualified[(qualified.IndexOf(':', StringComparison.Ordinal) + 1)..];

    private static XmlQualifiedName Resolve(XAttribute attribute, string qualified)
    {
        var colon = qualified.IndexOf(':', StringComparison.Ordinal);
        var ns = colon < 0 ? attribute.Parent!.GetDefaultNamespace() : attribute.Parent!.GetNamespaceOfPrefix(qualified[..colon])!;
        return new XmlQualifiedName(Local(qualified), ns.NamespaceName);
    }
}

/// <summary>An answer of <see cref="WsdlClient"/>: the result element (or the fault's detail) and its fields by name.</summary>
public sealed record WsdlAnswer(HttpStatusCode Status, XElement Result)
{
    public string? Field(string name) => Result.Elements().FirstOrDefault(e => e.Name.LocalName == name)?.Value;
}
