using System.Xml;
using System.Xml.Linq;

namespace Relay.Adapters.Ebms;

/// <summary>One <c>eb:Error</c> of an error list.</summary>
/// <param name="Code"><c>errorCode</c>: <c>DeliveryFailure</c>, <c>TimeToLiveExpired</c>, ... (ebMS 2.0 §4.2.3.4).</param>
/// <param name="Severity"><c>Warning</c> or <c>Error</c>.</param>
public sealed record EbmsError(string Code, string Severity, string? Description, string? Location)
{
    public bool IsError => string.Equals(Severity, "Error", StringComparison.Ordinal);

    /// <summary><c>DeliveryFailure (Error): the party is unreachable [location]</c>, cut to a line a person reads.</summary>
    public override string ToString()
    {
        var text = $"{Code} ({Severity})";
        if (!string.IsNullOrWhiteSpace(Description))
        {
            text += ": " + Cut(Description.Trim(), 300);
        }

        if (!string.IsNullOrWhiteSpace(Location))
        {
            text += $" [{Cut(Location.Trim(), 100)}]";
        }

        return text;
    }

    private static string Cut(string value, int max) => value.Length <= max ? value : value[..max] + "…";
}

/// <summary>
/// What an ebMS message that a receiving MSH sent says about one of Relay's: read from the SOAP envelope of a
/// synchronous reply or of a message posted to <c>/ebms</c>. Only what Relay acts on is read.
/// </summary>
public sealed record EbmsSignal
{
    /// <summary><c>eb:MessageHeader/eb:MessageData/eb:MessageId</c> of this message; null without a MessageHeader.</summary>
    public string? MessageId { get; init; }
    /// <summary><c>eb:MessageHeader/eb:MessageData/eb:RefToMessageId</c>: the message it answers.</summary>
    public string? RefToMessageId { get; init; }
    /// <summary><c>eb:MessageHeader/eb:From/eb:PartyId</c> (the first one).</summary>
    public string? FromPartyId { get; init; }
    public string? CpaId { get; init; }
    public string? Service { get; init; }
    public string? Action { get; init; }
    /// <summary><c>eb:Acknowledgment/eb:RefToMessageId</c> when the message acknowledges one.</summary>
    public string? AcknowledgedMessageId { get; init; }
    /// <summary>The errors of <c>eb:ErrorList</c>; empty without one.</summary>
    public IReadOnlyList<EbmsError> Errors { get; init; } = [];
    /// <summary>A SOAP fault in the body: its code (local name, without dotted sub-parts) and its reason.</summary>
    public (string Code, string? Reason)? Fault { get; init; }

    public bool HasErrorList { get; init; }

    /// <summary>The message this one is about: the acknowledged one, else the MessageHeader's RefToMessageId.</summary>
    public string? RefersTo => AcknowledgedMessageId ?? RefToMessageId;
}

/// <summary>
/// Reads the SOAP envelope of an ebMS message into an <see cref="EbmsSignal"/>, as the SOAP front door reads XML: DTDs
/// refused (a DOCTYPE is an error, so no entity is ever expanded), nothing resolved, the size bounded.
/// </summary>
public static class EbmsSignalReader
{
    /// <summary>The most characters of an envelope read; an answer or signal is a few KiB.</summary>
    public const int MaxEnvelopeCharacters = 1024 * 1024;

    private static readonly XNamespace Eb = EbmsNames.Eb;
    private static readonly XNamespace Soap = EbmsNames.Soap;

    /// <exception cref="EbmsFormatException">Not XML, a DTD, too large, or not a SOAP 1.1 envelope.</exception>
    public static EbmsSignal Read(byte[] envelope)
    {
        XDocument document;
        try
        {
            using var reader = XmlReader.Create(new MemoryStream(envelope, writable: false), new XmlReaderSettings
            {
                DtdProcessing = DtdProcessing.Prohibit,
                XmlResolver = null,
                MaxCharactersInDocument = MaxEnvelopeCharacters,
                MaxCharactersFromEntities = 0,
                IgnoreComments = true,
                IgnoreProcessingInstructions = true,
                CloseInput = true,
            });
            document = XDocument.Load(reader, LoadOptions.None);
        }
        catch (XmlException ex)
        {
            throw new EbmsFormatException("The SOAP envelope is not XML that can be read: " + ex.Message);
        }

        var root = document.Root;
        if (root is null || root.Name != Soap + "Envelope")
        {
            throw new EbmsFormatException($"The XML is not a SOAP 1.1 envelope (its root is {root?.Name.LocalName ?? "missing"}).");
        }

        var header = root.Element(Soap + "Header");
        var body = root.Element(Soap + "Body");
        var messageHeader = header?.Element(Eb + "MessageHeader");
        var data = messageHeader?.Element(Eb + "MessageData");
        var ack = header?.Element(Eb + "Acknowledgment");
        var errorList = header?.Element(Eb + "ErrorList");
        var fault = body?.Element(Soap + "Fault");

        return new EbmsSignal
        {
            MessageId = Text(data?.Element(Eb + "MessageId")),
            RefToMessageId = Text(data?.Element(Eb + "RefToMessageId")),
            FromPartyId = Text(messageHeader?.Element(Eb + "From")?.Element(Eb + "PartyId")),
            CpaId = Text(messageHeader?.Element(Eb + "CPAId")),
            Service = Text(messageHeader?.Element(Eb + "Service")),
            Action = Text(messageHeader?.Element(Eb + "Action")),
            AcknowledgedMessageId = Text(ack?.Element(Eb + "RefToMessageId")),
            HasErrorList = errorList is not null,
            Errors = errorList?.Elements(Eb + "Error").Select(e => new EbmsError(
                Attribute(e, "errorCode") ?? "Unknown",
                Attribute(e, "severity") ?? "Error",
                Text(e.Element(Eb + "Description")),
                Attribute(e, "location"))).ToList() ?? [],
            Fault = fault is null ? null : (FaultCode(Text(fault.Element("faultcode"))), Text(fault.Element("faultstring"))),
        };
    }

    private static string? Text(XElement? element)
    {
        var value = element?.Value.Trim();
        return string.IsNullOrEmpty(value) ? null : value;
    }

    /// <summary>An attribute of the eb namespace (msg-header-2_0.xsd qualifies them), or unqualified as some MSHs write it.</summary>
    private static string? Attribute(XElement element, string name) =>
        ((string?)element.Attribute(Eb + name) ?? (string?)element.Attribute(name))?.Trim();

    /// <summary><c>SOAP:Client.Authentication</c> → <c>Client</c>.</summary>
    private static string FaultCode(string? code)
    {
        code = code?.Trim() ?? "";
        var colon = code.LastIndexOf(':');
        if (colon >= 0)
        {
            code = code[(colon + 1)..];
        }

        var dot = code.IndexOf('.', StringComparison.Ordinal);
        code = dot > 0 ? code[..dot] : code;
        return code.Length == 0 ? "Unknown" : code;
    }
}
