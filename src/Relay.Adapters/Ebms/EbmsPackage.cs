using System.Text;
using MimeKit;

namespace Relay.Adapters.Ebms;

/// <summary>An ebMS message as it goes over HTTP: the body and the value of its <c>Content-Type</c> header.</summary>
public sealed record EbmsHttpBody(byte[] Body, string ContentType);

/// <summary>
/// The MIME of ebMS 2.0 (§2.1, SOAP Messages with Attachments), built and read with MimeKit: a
/// <c>multipart/related; type="text/xml"; start="&lt;header-cid&gt;"</c> whose first part is the SOAP envelope and whose
/// other parts are the payloads, each with the Content-ID its <c>eb:Reference</c> names. Lines end in CRLF.
/// </summary>
public static class EbmsPackage
{
    private static readonly FormatOptions Format = CreateFormat();

    /// <summary>The HTTP body of an envelope and one payload part.</summary>
    public static EbmsHttpBody Build(byte[] envelope, string envelopeContentId, ReadOnlyMemory<byte> payload, string payloadContentId, string payloadContentType)
    {
        var related = new Multipart("related");
        related.ContentType.Parameters.Add("type", "text/xml");
        related.ContentType.Parameters.Add("start", "<" + envelopeContentId + ">");

        var soap = new MimePart("text", "xml")
        {
            Content = new MimeContent(new MemoryStream(envelope, writable: false)),
            ContentId = envelopeContentId,
            // The envelope is UTF-8 XML on lines of any length; HTTP carries 8-bit data.
            ContentTransferEncoding = ContentEncoding.EightBit,
        };
        soap.ContentType.Charset = "UTF-8";
        related.Add(soap);

        var part = new MimePart(MimeKit.ContentType.TryParse(payloadContentType, out var type) ? type : new ContentType("application", "octet-stream"))
        {
            Content = new MimeContent(new MemoryStream(payload.ToArray(), writable: false)),
            ContentId = payloadContentId,
            // Binary: the payload's bytes arrive as they are, whatever they are.
            ContentTransferEncoding = ContentEncoding.Binary,
        };
        related.Add(part);

        using var output = new MemoryStream();
        related.WriteTo(Format, output, contentOnly: true);
        return new EbmsHttpBody(output.ToArray(), HeaderValue(related.ContentType));
    }

    /// <summary>
    /// The SOAP envelope of an ebMS message received over HTTP: the body itself when it is XML, or the part named by a
    /// <c>multipart/related</c>'s <c>start</c> (the first part without it).
    /// </summary>
    /// <exception cref="EbmsFormatException">Neither, or a multipart that cannot be read.</exception>
    public static byte[] ReadEnvelope(ReadOnlyMemory<byte> body, string? contentType)
    {
        if (!MimeKit.ContentType.TryParse(contentType ?? "text/xml", out var type))
        {
            throw new EbmsFormatException($"The content type '{Shorten(contentType)}' cannot be read.");
        }

        if (type.IsMimeType("text", "xml") || type.IsMimeType("application", "xml") || type.IsMimeType("application", "soap+xml"))
        {
            return body.ToArray();
        }

        if (!type.IsMimeType("multipart", "related"))
        {
            throw new EbmsFormatException($"The content type is {type.MimeType}, not multipart/related or text/xml.");
        }

        MimeEntity entity;
        try
        {
            using var stream = new MemoryStream(body.ToArray(), writable: false);
            entity = MimeEntity.Load(type, stream);
        }
        catch (FormatException ex)
        {
            throw new EbmsFormatException("The multipart/related body cannot be read: " + ex.Message);
        }

        if (entity is not Multipart { Count: > 0 } related)
        {
            throw new EbmsFormatException("The multipart/related body has no parts.");
        }

        var start = type.Parameters["start"]?.Trim().TrimStart('<').TrimEnd('>');
        var root = start is null
            ? related[0]
            : related.FirstOrDefault(p => string.Equals(p.ContentId, start, StringComparison.Ordinal))
                ?? throw new EbmsFormatException($"No part has the Content-ID <{Shorten(start)}> that 'start' names.");
        if (root is not MimePart { Content: not null } part)
        {
            throw new EbmsFormatException("The SOAP part of the multipart/related body is empty.");
        }

        using var decoded = new MemoryStream();
        part.Content.DecodeTo(decoded);
        return decoded.ToArray();
    }

    /// <summary>A <c>Content-Type</c> header's value as MimeKit writes it, without the header's name and folding.</summary>
    private static string HeaderValue(ContentType type)
    {
        var header = type.ToString(Format, Encoding.UTF8, encode: true);
        var colon = header.IndexOf(':', StringComparison.Ordinal);
        var value = colon >= 0 && header.StartsWith("Content-Type", StringComparison.OrdinalIgnoreCase) ? header[(colon + 1)..] : header;
        return value.Replace("\r\n", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal).Replace('\t', ' ').Trim();
    }

    private static FormatOptions CreateFormat()
    {
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        return format;
    }

    private static string Shorten(string? value) => Relay.Core.Options.OptionRules.Shorten(value);
}

/// <summary>An ebMS message that cannot be read (MIME or XML); the message says what was wrong.</summary>
public sealed class EbmsFormatException(string message) : Exception(message);
