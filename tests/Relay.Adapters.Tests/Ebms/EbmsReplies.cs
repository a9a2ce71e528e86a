using System.Xml.Linq;
using Relay.Adapters.Ebms;

namespace Relay.Adapters.Tests.Ebms;

/// <summary>
/// The messages a receiving MSH sends back (ebMS 2.0 §6.3.2, §4.2.4): an Acknowledgment or a MessageError with an
/// ErrorList, each with its own MessageHeader referring to the message it answers; valid against msg-header-2_0.xsd.
/// </summary>
internal static class EbmsReplies
{
    private static readonly XNamespace Soap = EbmsNames.Soap;
    private static readonly XNamespace Eb = EbmsNames.Eb;
    private static readonly XNamespace Xml = XNamespace.Xml;

    public static string Acknowledgment(string refToMessageId) =>
        Envelope(refToMessageId, "Acknowledgment", new XElement(Eb + "Acknowledgment",
            Extension(), new XAttribute(Soap + "actor", EbmsNames.ToPartyMshActor),
            new XElement(Eb + "Timestamp", EbmsEnvelope.Format(DateTimeOffset.UtcNow)),
            new XElement(Eb + "RefToMessageId", refToMessageId)));

    public static string ErrorList(string refToMessageId, params (string Code, string Severity, string Description)[] errors) =>
        Envelope(refToMessageId, "MessageError", new XElement(Eb + "ErrorList",
            Extension(),
            new XAttribute(Eb + "highestSeverity", errors.Any(e => e.Severity == "Error") ? "Error" : "Warning"),
            errors.Select(e => new XElement(Eb + "Error",
                new XAttribute(Eb + "errorCode", e.Code),
                new XAttribute(Eb + "severity", e.Severity),
                new XAttribute(Eb + "codeContext", "urn:oasis:names:tc:ebxml-msg:service:errors"),
                new XElement(Eb + "Description", new XAttribute(Xml + "lang", "en"), e.Description)))));

    public static string Fault(string code, string reason) =>
        new XDocument(new XElement(Soap + "Envelope", new XAttribute(XNamespace.Xmlns + "SOAP", Soap.NamespaceName),
            new XElement(Soap + "Body", new XElement(Soap + "Fault",
                new XElement("faultcode", "SOAP:" + code), new XElement("faultstring", reason))))).ToString();

    private static string Envelope(string refToMessageId, string action, XElement signal) =>
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n" + new XElement(Soap + "Envelope",
            new XAttribute(XNamespace.Xmlns + "SOAP", Soap.NamespaceName),
            new XAttribute(XNamespace.Xmlns + "eb", Eb.NamespaceName),
            new XElement(Soap + "Header",
                new XElement(Eb + "MessageHeader", Extension(),
                    new XElement(Eb + "From", new XElement(Eb + "PartyId", "urn:test:partner")),
                    new XElement(Eb + "To", new XElement(Eb + "PartyId", "urn:test:relay")),
                    new XElement(Eb + "CPAId", "cpa-test"),
                    new XElement(Eb + "ConversationId", "conversation"),
                    new XElement(Eb + "Service", EbmsNames.MshService),
                    new XElement(Eb + "Action", action),
                    new XElement(Eb + "MessageData",
                        new XElement(Eb + "MessageId", Guid.NewGuid().ToString("N") + "@partner"),
                        new XElement(Eb + "Timestamp", EbmsEnvelope.Format(DateTimeOffset.UtcNow)),
                        new XElement(Eb + "RefToMessageId", refToMessageId))),
                signal),
            new XElement(Soap + "Body"));

    private static object[] Extension() =>
        [new XAttribute(Soap + "mustUnderstand", "1"), new XAttribute(Eb + "version", "2.0")];
}
