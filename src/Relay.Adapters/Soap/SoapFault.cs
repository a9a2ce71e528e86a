using System.Xml;
using Relay.Contracts;
using Relay.Core.Delivery;

namespace Relay.Adapters.Soap;

/// <summary>A SOAP fault a destination answered: its code (without prefix or dotted sub-parts) and its reason.</summary>
/// <param name="Code"><c>Client</c>, <c>Server</c>, <c>VersionMismatch</c>, <c>MustUnderstand</c> (1.1); <c>Sender</c>, <c>Receiver</c>, ... (1.2).</param>
internal sealed record SoapFault(string Code, string? Reason)
{
    /// <summary>A Server (1.1) or Receiver (1.2) fault: the service failed, the request may succeed later.</summary>
    public bool IsServerFault => Code is "Server" or "Receiver";

    /// <summary>
    /// The fault in a response body, or null when the body holds none. Reads as far as it can: the body may be cut at
    /// the adapter's limit, and a fault whose code came before the cut is still found. DTDs are refused, nothing is resolved.
    /// </summary>
    public static SoapFault? Read(string? body)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return null;
        }

        string? code = null;
        string? reason = null;
        try
        {
            using var reader = XmlReader.Create(new StringReader(body), SoapEnvelope.SafeReaderSettings(ConformanceLevel.Document));
            if (reader.MoveToContent() != XmlNodeType.Element || reader.LocalName != "Envelope"
                || SoapVersion.FromNamespace(reader.NamespaceURI) is not { } version)
            {
                return null;
            }

            var ns = version.EnvelopeNamespace;
            // Envelope > Body > Fault, at depths 0, 1, 2; the Header's children (also at depth 2) are passed over.
            var inBody = false;
            while (reader.Read())
            {
                if (reader.NodeType != XmlNodeType.Element)
                {
                    continue;
                }

                if (reader.Depth == 1)
                {
                    inBody = reader.LocalName == "Body" && reader.NamespaceURI == ns;
                }
                else if (reader.Depth == 2 && inBody)
                {
                    if (reader.LocalName == "Fault" && reader.NamespaceURI == ns)
                    {
                        if (version == SoapVersion.Soap11)
                        {
                            ReadFault11(reader, ref code, ref reason);
                        }
                        else
                        {
                            ReadFault12(reader, ns, ref code, ref reason);
                        }
                    }

                    break;
                }
            }
        }
        catch (XmlException)
        {
            // Cut at the limit, or not XML: whatever was read before counts.
        }

        return code is null ? null : new SoapFault(Normalize(code), reason);
    }

    // ReadElementContentAsString leaves the reader on the node after the element: the loops read on only otherwise.
    // code and reason are written as soon as they are read, so a body cut further on still yields them.
    private static void ReadFault11(XmlReader reader, ref string? code, ref string? reason)
    {
        var depth = reader.Depth;
        reader.Read();
        while (!reader.EOF && reader.Depth > depth && (code is null || reason is null))
        {
            // faultcode and faultstring are unqualified children of Fault.
            if (reader.NodeType == XmlNodeType.Element && reader.Depth == depth + 1 && reader.LocalName is "faultcode" or "faultstring")
            {
                var isCode = reader.LocalName == "faultcode";
                var value = reader.ReadElementContentAsString();
                if (isCode)
                {
                    code = value;
                }
                else
                {
                    reason = value;
                }

                continue;
            }

            reader.Read();
        }
    }

    private static void ReadFault12(XmlReader reader, string ns, ref string? code, ref string? reason)
    {
        var depth = reader.Depth;
        reader.Read();
        while (!reader.EOF && reader.Depth > depth && (code is null || reason is null))
        {
            // Fault > Code > Value (the class), Fault > Reason > Text (the first one).
            if (reader.NodeType == XmlNodeType.Element && reader.NamespaceURI == ns && reader.Depth == depth + 2
                && ((reader.LocalName == "Value" && code is null) || (reader.LocalName == "Text" && reason is null)))
            {
                var isCode = reader.LocalName == "Value";
                var value = reader.ReadElementContentAsString();
                if (isCode)
                {
                    code = value;
                }
                else
                {
                    reason = value;
                }

                continue;
            }

            reader.Read();
        }
    }

    /// <summary><c>soap:Server.Busy</c> → <c>Server</c>.</summary>
    private static string Normalize(string code)
    {
        code = code.Trim();
        var colon = code.LastIndexOf(':');
        if (colon >= 0)
        {
            code = code[(colon + 1)..];
        }

        var dot = code.IndexOf('.', StringComparison.Ordinal);
        return dot > 0 ? code[..dot] : code;
    }
}

/// <summary>
/// Which answers of a SOAP destination are worth another attempt. A SOAP fault decides by its code: a Server (1.1)
/// or Receiver (1.2) fault is retryable when the destination's <c>RetryOnServerFault</c> is on (the default); every
/// other fault (Client/Sender, VersionMismatch, MustUnderstand, ...) is final. An answer without a fault is
/// classified as the HTTP adapter classifies it: 2xx success; 408, 409, 425, 429 and 5xx retryable; other 4xx final.
/// No answer at all and a timeout are retryable (the adapter reports those itself).
/// </summary>
internal static class SoapFailureClassifier
{
    public static AttemptOutcome Classify(int statusCode, SoapFault? fault, bool retryOnServerFault) => fault switch
    {
        null => HttpFailureClassifier.Classify(statusCode),
        { IsServerFault: true } when retryOnServerFault => AttemptOutcome.RetryableFailure,
        _ => AttemptOutcome.NonRetryableFailure,
    };
}
