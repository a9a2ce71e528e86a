using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Xml;
using System.Xml.Linq;

namespace Relay.Silo.Portal;

/// <summary>
/// A payload as the portal shows it: JSON and XML pretty-printed, other text as it is, bytes that are not UTF-8 as
/// base64. Always plain text: the page HTML-encodes it, it is never markup. XML is read with DTDs prohibited and no
/// resolver, so nothing external is ever fetched; a payload that does not parse is shown raw.
/// </summary>
public sealed record PayloadView(string Format, string Text, string? Raw)
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The payload as editable text; null when it is not UTF-8 (then it can be resubmitted, not edited).</summary>
    public string? EditableText => Raw;

    public static PayloadView Of(byte[] payload, string? contentType)
    {
        string text;
        try
        {
            text = StrictUtf8.GetString(payload);
        }
        catch (DecoderFallbackException)
        {
            return new PayloadView("binary, base64", Convert.ToBase64String(payload), null);
        }

        var type = contentType ?? "";
        var trimmed = text.TrimStart();
        if (type.Contains("json", StringComparison.OrdinalIgnoreCase) || trimmed.StartsWith('{') || trimmed.StartsWith('['))
        {
            if (TryJson(text) is { } json)
            {
                return new PayloadView("JSON", json, text);
            }
        }

        if (type.Contains("xml", StringComparison.OrdinalIgnoreCase) || trimmed.StartsWith('<'))
        {
            if (TryXml(text) is { } xml)
            {
                return new PayloadView("XML", xml, text);
            }
        }

        return new PayloadView("text", text, text);
    }

    private static string? TryJson(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 64 });
            using var buffer = new MemoryStream();
            using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions
            {
                Indented = true,
                // Shown as text (the page encodes it), never in a script: keep the characters as they were sent.
                Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            }))
            {
                document.WriteTo(writer);
            }

            return Encoding.UTF8.GetString(buffer.ToArray());
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? TryXml(string text)
    {
        var settings = new XmlReaderSettings
        {
            DtdProcessing = DtdProcessing.Prohibit,
            XmlResolver = null,
            MaxCharactersInDocument = 16 * 1024 * 1024,
        };
        try
        {
            using var reader = XmlReader.Create(new StringReader(text), settings);
            var document = XDocument.Load(reader);
            var body = document.ToString(SaveOptions.None);
            return document.Declaration is { } declaration ? declaration + Environment.NewLine + body : body;
        }
        catch (XmlException)
        {
            return null;
        }
    }
}
