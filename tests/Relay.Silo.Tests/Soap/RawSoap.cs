using System.Net.Http.Headers;
using System.Xml.Linq;

namespace Relay.Silo.Tests.Soap;

/// <summary>SOAP 1.1 over plain HttpClient: what a client made without WCF sends, and the fault it gets back.</summary>
public static class RawSoap
{
    public const string Envelope11 = "http://schemas.xmlsoap.org/soap/envelope/";
    public const string Messaging = "urn:relay:messaging:v1";
    public const string SendAction = Messaging + "/IMessagingService/Send";

    public static string SendEnvelope(string id, string destination, string payloadXml, string prolog = "") =>
        $"{prolog}<s:Envelope xmlns:s=\"{Envelope11}\"><s:Body><Send xmlns=\"{Messaging}\"><request><Id>{id}</Id><Destination>{destination}</Destination><Payload>{payloadXml}</Payload></request></Send></s:Body></s:Envelope>";

    public static HttpContent Content(string envelope, string contentType = "text/xml; charset=utf-8")
    {
        var content = new StringContent(envelope, Encoding.UTF8);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return content;
    }

    public static async Task<HttpResponseMessage> PostAsync(HttpClient client, HttpContent content, string? action = SendAction)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/Messaging.svc") { Content = content };
        if (action is not null)
        {
            request.Headers.TryAddWithoutValidation("SOAPAction", $"\"{action}\"");
        }

        return await client.SendAsync(request);
    }

    /// <summary>The fault of a SOAP 1.1 answer: faultcode, faultstring, and the RelayFault detail's status.</summary>
    public static async Task<(string Code, string Reason, int? Status, string Text)> ReadFaultAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        var fault = XDocument.Parse(text).Descendants(XName.Get("Fault", Envelope11)).SingleOrDefault()
            ?? throw new InvalidOperationException($"No SOAP fault ({(int)response.StatusCode}): {text}");
        var status = fault.Element("detail")?.Element(XName.Get("RelayFault", Messaging))?.Element(XName.Get("StatusCode", Messaging))?.Value;
        return (fault.Element("faultcode")!.Value, fault.Element("faultstring")!.Value, status is null ? null : int.Parse(status, System.Globalization.CultureInfo.InvariantCulture), text);
    }

    /// <summary>A body of unknown length: sent chunked, with no Content-Length to refuse it by.</summary>
    public sealed class ChunkedContent(byte[] body) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            for (var offset = 0; offset < body.Length; offset += 8192)
            {
                await stream.WriteAsync(body.AsMemory(offset, Math.Min(8192, body.Length - offset)));
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
