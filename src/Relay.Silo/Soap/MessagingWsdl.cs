using System.Reflection;
using System.Runtime.Serialization;
using System.ServiceModel;
using System.Text;
using System.Xml;
using System.Xml.Schema;
using Relay.Contracts;

namespace Relay.Silo.Soap;

/// <summary>
/// The WSDL of <c>/Messaging.svc</c> (SOAP 1.1, document/literal, as WCF's BasicHttpBinding describes itself),
/// made from <see cref="IMessagingService"/> and its data contracts with <see cref="XsdDataContractExporter"/>, the
/// exporter WCF itself uses, so the schema is exactly what <see cref="DataContractSerializer"/> reads and writes.
/// </summary>
/// <remarks>
/// SoapCore's own WSDL is not served: version 1.2.1.18 puts data contracts whose namespace is not an http URI
/// (ours is <c>urn:relay:messaging:v1</c>) into a schema of another namespace, and describes
/// <c>Dictionary&lt;string, string&gt;</c> unlike what the serializer writes, so a client generated from it would
/// not work.
/// </remarks>
internal static class MessagingWsdl
{
    private const string Wsdl = "http://schemas.xmlsoap.org/wsdl/";
    private const string WsdlSoap = "http://schemas.xmlsoap.org/wsdl/soap/";
    private const string Xsd = "http://www.w3.org/2001/XMLSchema";
    private const string Tns = RelayNamespaces.Messaging;
    private const string FaultName = "RelayFaultFault";

    private static readonly Lazy<Description> Described = new(Describe);

    /// <summary>The WSDL (UTF-8) with <paramref name="address"/> as the endpoint's location.</summary>
    public static byte[] Write(string address)
    {
        var description = Described.Value;
        using var output = new MemoryStream();
        using (var writer = XmlWriter.Create(output, new XmlWriterSettings { Encoding = new UTF8Encoding(false), Indent = true }))
        {
            writer.WriteStartElement("wsdl", "definitions", Wsdl);
            writer.WriteAttributeString("name", "MessagingService");
            writer.WriteAttributeString("targetNamespace", Tns);
            writer.WriteAttributeString("xmlns", "tns", null, Tns);
            writer.WriteAttributeString("xmlns", "soap", null, WsdlSoap);
            writer.WriteAttributeString("xmlns", "xsd", null, Xsd);

            writer.WriteStartElement("types", Wsdl);
            foreach (var schema in description.Schemas)
            {
                schema.Write(writer);
            }

            writer.WriteEndElement();

            foreach (var operation in description.Operations)
            {
                WriteMessage(writer, $"{description.Contract}_{operation.Name}_InputMessage", operation.Name);
                WriteMessage(writer, $"{description.Contract}_{operation.Name}_OutputMessage", operation.Name + "Response");
                WriteMessage(writer, $"{description.Contract}_{operation.Name}_{FaultName}_FaultMessage", nameof(RelayFault));
            }

            writer.WriteStartElement("portType", Wsdl);
            writer.WriteAttributeString("name", description.Contract);
            foreach (var operation in description.Operations)
            {
                writer.WriteStartElement("operation", Wsdl);
                writer.WriteAttributeString("name", operation.Name);
                WriteMessageReference(writer, "input", null, $"tns:{description.Contract}_{operation.Name}_InputMessage");
                WriteMessageReference(writer, "output", null, $"tns:{description.Contract}_{operation.Name}_OutputMessage");
                WriteMessageReference(writer, "fault", FaultName, $"tns:{description.Contract}_{operation.Name}_{FaultName}_FaultMessage");
                writer.WriteEndElement();
            }

            writer.WriteEndElement();

            var binding = "BasicHttpBinding_" + description.Contract;
            writer.WriteStartElement("binding", Wsdl);
            writer.WriteAttributeString("name", binding);
            writer.WriteAttributeString("type", "tns:" + description.Contract);
            writer.WriteStartElement("binding", WsdlSoap);
            writer.WriteAttributeString("transport", "http://schemas.xmlsoap.org/soap/http");
            writer.WriteEndElement();
            foreach (var operation in description.Operations)
            {
                writer.WriteStartElement("operation", Wsdl);
                writer.WriteAttributeString("name", operation.Name);
                writer.WriteStartElement("operation", WsdlSoap);
                writer.WriteAttributeString("soapAction", operation.Action);
                writer.WriteAttributeString("style", "document");
                writer.WriteEndElement();
                foreach (var direction in (string[])["input", "output"])
                {
                    writer.WriteStartElement(direction, Wsdl);
                    writer.WriteStartElement("body", WsdlSoap);
                    writer.WriteAttributeString("use", "literal");
                    writer.WriteEndElement();
                    writer.WriteEndElement();
                }

                writer.WriteStartElement("fault", Wsdl);
                writer.WriteAttributeString("name", FaultName);
                writer.WriteStartElement("fault", WsdlSoap);
                writer.WriteAttributeString("name", FaultName);
                writer.WriteAttributeString("use", "literal");
                writer.WriteEndElement();
                writer.WriteEndElement();
                writer.WriteEndElement();
            }

            writer.WriteEndElement();

            writer.WriteStartElement("service", Wsdl);
            writer.WriteAttributeString("name", "MessagingService");
            writer.WriteStartElement("port", Wsdl);
            writer.WriteAttributeString("name", binding);
            writer.WriteAttributeString("binding", "tns:" + binding);
            writer.WriteStartElement("address", WsdlSoap);
            writer.WriteAttributeString("location", address);
            writer.WriteEndElement();
            writer.WriteEndElement();
            writer.WriteEndElement();

            writer.WriteEndElement();
        }

        return output.ToArray();
    }

    private static void WriteMessage(XmlWriter writer, string name, string element)
    {
        writer.WriteStartElement("message", Wsdl);
        writer.WriteAttributeString("name", name);
        writer.WriteStartElement("part", Wsdl);
        writer.WriteAttributeString("name", "parameters");
        writer.WriteAttributeString("element", "tns:" + element);
        writer.WriteEndElement();
        writer.WriteEndElement();
    }

    private static void WriteMessageReference(XmlWriter writer, string kind, string? name, string message)
    {
        writer.WriteStartElement(kind, Wsdl);
        if (name is not null)
        {
            writer.WriteAttributeString("name", name);
        }

        writer.WriteAttributeString("message", message);
        writer.WriteEndElement();
    }

    private sealed record Operation(string Name, string Action);

    private sealed record Description(string Contract, IReadOnlyList<Operation> Operations, IReadOnlyList<XmlSchema> Schemas);

    /// <summary>Reads the operations off the contract and exports the schemas of their messages, once.</summary>
    private static Description Describe()
    {
        var contract = typeof(IMessagingService).GetCustomAttribute<ServiceContractAttribute>()!;
        var exporter = new XsdDataContractExporter();
        var operations = new List<Operation>();
        var wrappers = new List<XmlSchemaElement>();
        foreach (var method in typeof(IMessagingService).GetMethods())
        {
            var attribute = method.GetCustomAttribute<OperationContractAttribute>()!;
            var name = attribute.Name ?? method.Name;
            operations.Add(new Operation(name, attribute.Action!));
            var request = new XmlSchemaSequence();
            foreach (var parameter in method.GetParameters())
            {
                request.Items.Add(Member(exporter, parameter.Name!, parameter.ParameterType));
            }

            // Task<T> answers T, named as WCF names it: {Operation}Result in {Operation}Response.
            var result = method.ReturnType.GetGenericArguments()[0];
            var response = new XmlSchemaSequence();
            response.Items.Add(Member(exporter, name + "Result", result));
            wrappers.Add(new XmlSchemaElement { Name = name, SchemaType = new XmlSchemaComplexType { Particle = request } });
            wrappers.Add(new XmlSchemaElement { Name = name + "Response", SchemaType = new XmlSchemaComplexType { Particle = response } });
        }

        exporter.Export(typeof(RelayFault));
        var schemas = exporter.Schemas;
        var own = schemas.Schemas(Tns).Cast<XmlSchema>().Single();
        foreach (var wrapper in wrappers)
        {
            own.Items.Add(wrapper);
        }

        schemas.Reprocess(own);
        schemas.Compile();
        // Relay's own namespace last, after the ones it imports.
        // (The set also holds a stub of XML Schema's own namespace, which nothing references: left out.)
        var ordered = schemas.Schemas().Cast<XmlSchema>()
            .Where(s => s.TargetNamespace != Xsd)
            .OrderBy(s => s.TargetNamespace == Tns).ThenBy(s => s.TargetNamespace, StringComparer.Ordinal)
            .ToList();
        return new Description(contract.Name ?? nameof(IMessagingService), operations, ordered);
    }

    private static XmlSchemaElement Member(XsdDataContractExporter exporter, string name, Type type)
    {
        exporter.Export(type);
        var typeName = exporter.GetSchemaTypeName(type);
        return new XmlSchemaElement
        {
            Name = name,
            SchemaTypeName = typeName,
            MinOccurs = 0,
            IsNillable = !type.IsValueType,
        };
    }
}
