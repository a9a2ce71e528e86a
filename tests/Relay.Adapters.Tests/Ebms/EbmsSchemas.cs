using System.Xml;
using System.Xml.Linq;
using System.Xml.Schema;
using Relay.Adapters.Ebms;

namespace Relay.Adapters.Tests.Ebms;

/// <summary>
/// The normative schemas of ebMS 2.0 (Schemas/, whose SOURCES.md says where each comes from): msg-header-2_0.xsd and
/// what it imports (the SOAP 1.1 envelope, XLink, xml:lang, XML Signature), compiled once into one set.
/// </summary>
internal static class EbmsSchemas
{
    private static readonly Lazy<XmlSchemaSet> Set = new(Load);

    /// <summary>Every error and warning of validating <paramref name="envelope"/> (empty: valid), each with its line.</summary>
    public static IReadOnlyList<string> Validate(byte[] envelope)
    {
        var problems = new List<string>();
        var settings = new XmlReaderSettings
        {
            ValidationType = ValidationType.Schema,
            Schemas = Set.Value,
            ValidationFlags = XmlSchemaValidationFlags.ReportValidationWarnings | XmlSchemaValidationFlags.ProcessIdentityConstraints,
            DtdProcessing = DtdProcessing.Prohibit,
        };
        settings.ValidationEventHandler += (_, e) => problems.Add($"{e.Severity} at {e.Exception?.LineNumber}:{e.Exception?.LinePosition}: {e.Message}");
        using var reader = XmlReader.Create(new MemoryStream(envelope), settings);
        try
        {
            while (reader.Read())
            {
            }
        }
        catch (XmlException ex)
        {
            problems.Add("Not XML: " + ex.Message);
        }

        // Lax wildcards (SOAP's Header and Body take any element) validate what the set declares and pass over the rest
        // with a warning only: every element Relay writes must be one the schemas declare.
        var root = XDocument.Load(new MemoryStream(envelope)).Root!;
        foreach (var element in root.Descendants())
        {
            var ns = element.Name.NamespaceName;
            if (ns != EbmsNames.Soap && ns != EbmsNames.Eb)
            {
                problems.Add($"Element {element.Name} is of no ebMS schema");
            }
        }

        return problems;
    }

    private static XmlSchemaSet Load()
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "Ebms", "Schemas");
        var set = new XmlSchemaSet { XmlResolver = null };
        var errors = new List<string>();
        set.ValidationEventHandler += (_, e) => errors.Add(e.Message);
        // Added one by one, so that no import is fetched: each namespace is in the set already.
        foreach (var file in new[] { "xml.xsd", "xlink.xsd", "envelope.xsd", "xmldsig-core-schema.xsd", "msg-header-2_0.xsd" })
        {
            using var reader = XmlReader.Create(Path.Combine(folder, file), new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore, XmlResolver = null });
            set.Add(null, reader);
        }

        set.Compile();
        if (errors.Count > 0)
        {
            throw new InvalidOperationException("The ebMS schemas do not compile: " + string.Join("; ", errors));
        }

        return set;
    }
}
