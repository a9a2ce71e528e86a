using System.Security.Cryptography;
using System.Text;
using System.Xml;
using System.Xml.Linq;

namespace Relay.Adapters.Soap;

/// <summary>The two SOAP versions a destination may speak.</summary>
internal sealed record SoapVersion(string Name, string EnvelopeNamespace, string MediaType)
{
    public static readonly SoapVersion Soap11 = new("1.1", "http://schemas.xmlsoap.org/soap/envelope/", "text/xml");
    public static readonly SoapVersion Soap12 = new("1.2", "http://www.w3.org/2003/05/soap-envelope", "application/soap+xml");

    /// <summary><c>1.1</c> (also <c>11</c>, <c>Soap11</c>) or <c>1.2</c> (<c>12</c>, <c>Soap12</c>); null for anything else.</summary>
    public static SoapVersion? Parse(string? text) => text?.Trim().ToUpperInvariant() switch
    {
        null or "" or "1.1" or "11" or "SOAP11" or "SOAP1.1" => Soap11,
        "1.2" or "12" or "SOAP12" or "SOAP1.2" => Soap12,
        _ => null,
    };

    public static SoapVersion? FromNamespace(string ns) =>
        ns == Soap11.EnvelopeNamespace ? Soap11 : ns == Soap12.EnvelopeNamespace ? Soap12 : null;
}

/// <summary>The WS-Security UsernameToken a destination's configuration asks for. The password is a secret: never logged.</summary>
internal sealed record UsernameToken(string Username, string? Password)
{
    public override string ToString() => $"UsernameToken {{ Username = {Username} }}";
}

/// <summary>A payload that cannot become the SOAP request: the delivery cannot succeed until an operator edits it.</summary>
internal sealed class SoapPayloadException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Makes the SOAP envelope of one attempt: the payload is the content of the body, wrapped in an envelope of the
/// destination's version, with a WS-Security UsernameToken header when credentials are configured. A payload that
/// already is an envelope is sent as it is (a token header is added to it when configured).
/// </summary>
/// <remarks>
/// Payloads are parsed with DTDs prohibited and no resolver: an entity in a payload can neither read a file nor
/// call another server from the silo.
/// </remarks>
internal static class SoapEnvelope
{
    private const string Wsse = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
    private const string Wsu = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd";
    private const string PasswordText = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText";
    private const string Base64Binary = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary";

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>Reader settings for XML that comes from outside (payloads, destinations' answers): no DTD, no resolver.</summary>
    internal static XmlReaderSettings SafeReaderSettings(ConformanceLevel conformance) => new()
    {
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        ConformanceLevel = conformance,
        CloseInput = true,
    };

    /// <summary>The request body (UTF-8) for <paramref name="payload"/>.</summary>
    /// <exception cref="SoapPayloadException">The payload is not XML that fits a SOAP body, or an envelope of another version.</exception>
    public static byte[] Build(ReadOnlyMemory<byte> payload, SoapVersion version, UsernameToken? token, DateTimeOffset now)
    {
        try
        {
            var shape = Inspect(payload);
            if (shape.EnvelopeVersion is { } given)
            {
                if (given != version)
                {
                    throw new SoapPayloadException(
                        $"The payload is a SOAP {given.Name} envelope, but the destination speaks SOAP {version.Name}: send the body content only, or set the destination's SoapVersion to {given.Name}.");
                }

                return token is null && shape.IsUtf8 ? payload.ToArray() : AddHeader(payload, version, token, now);
            }

            return Wrap(payload, version, token, now);
        }
        catch (XmlException ex)
        {
            throw new SoapPayloadException(Describe(ex), ex);
        }
    }

    private readonly record struct Shape(SoapVersion? EnvelopeVersion, bool IsUtf8);

    /// <summary>Reads the whole payload once: is it well-formed, is it an envelope, and is it UTF-8 (so it can go as it is).</summary>
    private static Shape Inspect(ReadOnlyMemory<byte> payload)
    {
        var span = payload.Span;
        var utf16 = span.Length >= 2 && ((span[0] == 0xFE && span[1] == 0xFF) || (span[0] == 0xFF && span[1] == 0xFE));
        var isUtf8 = !utf16;
        SoapVersion? envelope = null;
        var roots = 0;
        using var reader = XmlReader.Create(new MemoryStream(payload.ToArray(), writable: false), SafeReaderSettings(ConformanceLevel.Fragment));
        while (reader.Read())
        {
            switch (reader.NodeType)
            {
                case XmlNodeType.XmlDeclaration:
                    var encoding = reader.GetAttribute("encoding");
                    if (encoding is not null && !encoding.Equals("utf-8", StringComparison.OrdinalIgnoreCase))
                    {
                        isUtf8 = false;
                    }

                    break;
                case XmlNodeType.Element when reader.Depth == 0:
                    roots++;
                    if (roots == 1 && reader.LocalName == "Envelope")
                    {
                        envelope = SoapVersion.FromNamespace(reader.NamespaceURI);
                    }

                    break;
                case XmlNodeType.Text or XmlNodeType.CDATA when reader.Depth == 0:
                    throw new SoapPayloadException("The payload has text outside any element; a SOAP body holds XML elements (for example <Bill xmlns=\"urn:acme\">...</Bill>).");
            }
        }

        if (roots == 0)
        {
            throw new SoapPayloadException("The payload holds no XML element; a SOAP body holds XML elements (for example <Bill xmlns=\"urn:acme\">...</Bill>).");
        }

        if (envelope is not null && roots > 1)
        {
            throw new SoapPayloadException("The payload is a SOAP envelope followed by more elements; send one envelope, or the body content only.");
        }

        return new Shape(envelope, isUtf8);
    }

    private static byte[] Wrap(ReadOnlyMemory<byte> payload, SoapVersion version, UsernameToken? token, DateTimeOffset now)
    {
        using var output = new MemoryStream(payload.Length + 512);
        using (var writer = XmlWriter.Create(output, new XmlWriterSettings { Encoding = Utf8, CloseOutput = false }))
        using (var reader = XmlReader.Create(new MemoryStream(payload.ToArray(), writable: false), SafeReaderSettings(ConformanceLevel.Fragment)))
        {
            writer.WriteStartDocument();
            writer.WriteStartElement("soap", "Envelope", version.EnvelopeNamespace);
            if (token is not null)
            {
                writer.WriteStartElement("soap", "Header", version.EnvelopeNamespace);
                SecurityHeader(version, token, now).WriteTo(writer);
                writer.WriteEndElement();
            }

            writer.WriteStartElement("soap", "Body", version.EnvelopeNamespace);
            reader.MoveToContent();
            while (!reader.EOF)
            {
                if (reader.NodeType is XmlNodeType.XmlDeclaration or XmlNodeType.None)
                {
                    reader.Read();
                    continue;
                }

                writer.WriteNode(reader, defattr: true);
            }

            writer.WriteEndElement();
            writer.WriteEndElement();
            writer.WriteEndDocument();
        }

        return output.ToArray();
    }

    private static byte[] AddHeader(ReadOnlyMemory<byte> payload, SoapVersion version, UsernameToken? token, DateTimeOffset now)
    {
        XDocument document;
        using (var reader = XmlReader.Create(new MemoryStream(payload.ToArray(), writable: false), SafeReaderSettings(ConformanceLevel.Document)))
        {
            document = XDocument.Load(reader, LoadOptions.PreserveWhitespace);
        }

        if (token is not null)
        {
            XNamespace soap = version.EnvelopeNamespace;
            var envelope = document.Root!;
            var header = envelope.Element(soap + "Header");
            if (header is null)
            {
                header = new XElement(soap + "Header");
                envelope.AddFirst(header);
            }

            header.AddFirst(SecurityHeader(version, token, now));
        }

        using var output = new MemoryStream(payload.Length + 512);
        using (var writer = XmlWriter.Create(output, new XmlWriterSettings { Encoding = Utf8, CloseOutput = false }))
        {
            document.Declaration = null;
            document.Save(writer);
        }

        return output.ToArray();
    }

    /// <summary>
    /// <c>wsse:Security</c> with a UsernameToken (OASIS WSS UsernameToken Profile 1.0, PasswordText, with nonce and
    /// creation time so a destination can refuse replays). The password travels as text: call such destinations over https.
    /// </summary>
    private static XElement SecurityHeader(SoapVersion version, UsernameToken token, DateTimeOffset now)
    {
        XNamespace wsse = Wsse;
        XNamespace wsu = Wsu;
        XNamespace soap = version.EnvelopeNamespace;
        var usernameToken = new XElement(wsse + "UsernameToken",
            new XAttribute(wsu + "Id", "UsernameToken-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8))),
            new XElement(wsse + "Username", token.Username));
        if (token.Password is not null)
        {
            usernameToken.Add(new XElement(wsse + "Password", new XAttribute("Type", PasswordText), token.Password));
        }

        usernameToken.Add(
            new XElement(wsse + "Nonce", new XAttribute("EncodingType", Base64Binary), Convert.ToBase64String(RandomNumberGenerator.GetBytes(16))),
            new XElement(wsu + "Created", now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture)));
        return new XElement(wsse + "Security",
            new XAttribute(XNamespace.Xmlns + "wsse", Wsse),
            new XAttribute(XNamespace.Xmlns + "wsu", Wsu),
            new XAttribute(soap + "mustUnderstand", "1"),
            usernameToken);
    }

    private static string Describe(XmlException ex) =>
        ex.Message.Contains("DTD", StringComparison.Ordinal)
            ? "The payload has a DOCTYPE; Relay does not send XML with DTDs or entity declarations. Remove the DOCTYPE and resubmit."
            : $"The payload is not well-formed XML, so it cannot be a SOAP body: {ex.Message}";
}
