using System.Globalization;
using System.Text;
using System.Xml;

namespace Relay.Adapters.Ebms;

/// <summary>The namespaces and fixed values of ebMS 2.0 (OASIS ebXML Message Service Specification 2.0, April 2002).</summary>
public static class EbmsNames
{
    public const string Eb = "http://www.oasis-open.org/committees/ebxml-msg/schema/msg-header-2_0.xsd";
    public const string Soap = "http://schemas.xmlsoap.org/soap/envelope/";
    public const string XLink = "http://www.w3.org/1999/xlink";
    public const string Version = "2.0";
    /// <summary>The actor of <c>eb:AckRequested</c>: the To party's MSH (not an intermediary) acknowledges.</summary>
    public const string ToPartyMshActor = "urn:oasis:names:tc:ebxml-msg:actor:toPartyMSH";
    /// <summary>The actor of <c>eb:SyncReply</c>: the next SOAP node, i.e. the MSH that answers the HTTP request.</summary>
    public const string NextActor = "http://schemas.xmlsoap.org/soap/actor/next";
    /// <summary>The service of MSH signals (Acknowledgment, MessageError): ebMS 2.0 §3.1.4.</summary>
    public const string MshService = "urn:oasis:names:tc:ebxml-msg:service";
}

/// <summary>What goes into one ebMS 2.0 message's SOAP envelope.</summary>
public sealed record EbmsHeader
{
    public required string FromPartyId { get; init; }
    public string? FromPartyType { get; init; }
    public required string ToPartyId { get; init; }
    public string? ToPartyType { get; init; }
    public required string CpaId { get; init; }
    public required string ConversationId { get; init; }
    public required string Service { get; init; }
    public string? ServiceType { get; init; }
    public required string Action { get; init; }
    public required string MessageId { get; init; }
    public required DateTimeOffset Timestamp { get; init; }
    public DateTimeOffset? TimeToLive { get; init; }
    public bool DuplicateElimination { get; init; }
    public bool AckRequested { get; init; }
    public bool SyncReply { get; init; }
    /// <summary>The Content-IDs (without angle brackets) of the payload parts, one <c>eb:Reference</c> each.</summary>
    public required IReadOnlyList<string> PayloadContentIds { get; init; }
}

/// <summary>
/// Writes the SOAP 1.1 envelope of an ebMS 2.0 message (the first MIME part): <c>eb:MessageHeader</c> (mustUnderstand),
/// <c>eb:AckRequested</c> and <c>eb:SyncReply</c> as asked, and an <c>eb:Manifest</c> that names each payload part by
/// <c>cid:</c>. Valid against msg-header-2_0.xsd and the SOAP 1.1 envelope schema (tested against both).
/// </summary>
public static class EbmsEnvelope
{
    public static byte[] Build(EbmsHeader header)
    {
        ArgumentNullException.ThrowIfNull(header);
        using var output = new MemoryStream();
        using (var writer = XmlWriter.Create(output, new XmlWriterSettings { Encoding = new UTF8Encoding(false), Indent = false }))
        {
            writer.WriteStartDocument();
            writer.WriteStartElement("SOAP", "Envelope", EbmsNames.Soap);
            writer.WriteAttributeString("xmlns", "eb", null, EbmsNames.Eb);
            writer.WriteAttributeString("xmlns", "xlink", null, EbmsNames.XLink);

            writer.WriteStartElement("Header", EbmsNames.Soap);
            writer.WriteStartElement("eb", "MessageHeader", EbmsNames.Eb);
            HeaderExtension(writer);
            Party(writer, "From", header.FromPartyId, header.FromPartyType);
            Party(writer, "To", header.ToPartyId, header.ToPartyType);
            writer.WriteElementString("CPAId", EbmsNames.Eb, header.CpaId);
            writer.WriteElementString("ConversationId", EbmsNames.Eb, header.ConversationId);
            writer.WriteStartElement("Service", EbmsNames.Eb);
            if (header.ServiceType is not null)
            {
                writer.WriteAttributeString("type", EbmsNames.Eb, header.ServiceType);
            }

            writer.WriteString(header.Service);
            writer.WriteEndElement();
            writer.WriteElementString("Action", EbmsNames.Eb, header.Action);
            writer.WriteStartElement("MessageData", EbmsNames.Eb);
            writer.WriteElementString("MessageId", EbmsNames.Eb, header.MessageId);
            writer.WriteElementString("Timestamp", EbmsNames.Eb, Format(header.Timestamp));
            if (header.TimeToLive is { } ttl)
            {
                writer.WriteElementString("TimeToLive", EbmsNames.Eb, Format(ttl));
            }

            writer.WriteEndElement();
            if (header.DuplicateElimination)
            {
                writer.WriteElementString("DuplicateElimination", EbmsNames.Eb, "");
            }

            writer.WriteEndElement(); // MessageHeader

            if (header.AckRequested)
            {
                writer.WriteStartElement("eb", "AckRequested", EbmsNames.Eb);
                HeaderExtension(writer);
                writer.WriteAttributeString("actor", EbmsNames.Soap, EbmsNames.ToPartyMshActor);
                writer.WriteAttributeString("signed", EbmsNames.Eb, "false");
                writer.WriteEndElement();
            }

            if (header.SyncReply)
            {
                writer.WriteStartElement("eb", "SyncReply", EbmsNames.Eb);
                HeaderExtension(writer);
                writer.WriteAttributeString("actor", EbmsNames.Soap, EbmsNames.NextActor);
                writer.WriteEndElement();
            }

            writer.WriteEndElement(); // Header

            writer.WriteStartElement("Body", EbmsNames.Soap);
            writer.WriteStartElement("eb", "Manifest", EbmsNames.Eb);
            writer.WriteAttributeString("version", EbmsNames.Eb, EbmsNames.Version);
            foreach (var contentId in header.PayloadContentIds)
            {
                writer.WriteStartElement("Reference", EbmsNames.Eb);
                writer.WriteAttributeString("xlink", "href", EbmsNames.XLink, "cid:" + contentId);
                writer.WriteAttributeString("xlink", "type", EbmsNames.XLink, "simple");
                writer.WriteEndElement();
            }

            writer.WriteEndElement(); // Manifest
            writer.WriteEndElement(); // Body
            writer.WriteEndElement(); // Envelope
        }

        return output.ToArray();
    }

    /// <summary>UTC, to the millisecond, with a <c>Z</c>: an <c>xsd:dateTime</c> every MSH reads.</summary>
    public static string Format(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>The attributes every ebMS header extension element carries: <c>SOAP:mustUnderstand="1"</c>, <c>eb:version="2.0"</c>.</summary>
    private static void HeaderExtension(XmlWriter writer)
    {
        writer.WriteAttributeString("SOAP", "mustUnderstand", EbmsNames.Soap, "1");
        writer.WriteAttributeString("eb", "version", EbmsNames.Eb, EbmsNames.Version);
    }

    private static void Party(XmlWriter writer, string element, string id, string? type)
    {
        writer.WriteStartElement(element, EbmsNames.Eb);
        writer.WriteStartElement("PartyId", EbmsNames.Eb);
        if (type is not null)
        {
            writer.WriteAttributeString("type", EbmsNames.Eb, type);
        }

        writer.WriteString(id);
        writer.WriteEndElement();
        writer.WriteEndElement();
    }
}
