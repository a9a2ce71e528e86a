using System.Buffers;
using System.ServiceModel;
using System.Xml;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Relay.Contracts;
using Relay.Core.Messages;
using Relay.Core.Options;

namespace Relay.Silo.Soap;

/// <summary>
/// Stands in front of SoapCore at <c>/Messaging.svc</c> and lets through only what Relay is willing to parse: a POST
/// of <c>text/xml</c> no larger than the envelope limit, that is well-formed XML without a DTD and whose root is a
/// SOAP 1.1 envelope; and GET of the WSDL, which it answers itself (<see cref="MessagingWsdl"/>). SoapCore copies the whole body into memory before it parses, so the size
/// is enforced here, before anything is parsed: by Content-Length at once, and by a capped read for a body without one.
/// </summary>
/// <remarks>
/// The check parses with <see cref="DtdProcessing.Prohibit"/> and no resolver, so a DOCTYPE is refused before any
/// entity could be resolved: no file is read, no outbound request is made. It is not a second line of defence but
/// the only one: SoapCore 1.2.1.18 loads the envelope with <c>XDocument.LoadAsync</c>, which parses DTDs and expands
/// internal entities (external ones are not fetched only because .NET's default resolver is null); the tests of
/// HostileEnvelopeTests fail without this guard. A plain Send is answered here, without SoapCore
/// (<see cref="SoapSendFastPath"/>): read by a reader with the same settings and the same depth limit as the check,
/// in one pass; whatever that reader does not take whole is checked and handed to SoapCore as before.
/// </remarks>
internal sealed class SoapEnvelopeGuard(RequestDelegate next, IOptions<RelayOptions> options, SoapSendFastPath sendFastPath)
{
    /// <summary>How deep an envelope may nest: a Send with headers needs 7 levels.</summary>
    internal const int MaxDepth = 64;

    private const string Soap11Envelope = "http://schemas.xmlsoap.org/soap/envelope/";

    // XmlReader.Create copies what it needs of these: one instance serves every request (and SoapSendFastPath's reader).
    internal static readonly XmlReaderSettings InspectSettings = new()
    {
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        IgnoreComments = true,
        IgnoreProcessingInstructions = true,
        IgnoreWhitespace = true,
        CloseInput = false,
    };

    private readonly long _maxEnvelopeBytes = SoapFrontDoorExtensions.MaxEnvelopeBytes(options.Value.Limits);

    public async Task InvokeAsync(HttpContext http)
    {
        var request = http.Request;
        // SoapCore also answers /Messaging.svc/{operation} with query or form parameters: not a door Relay offers.
        if (!request.Path.StartsWithSegments(SoapFrontDoorExtensions.Path, StringComparison.OrdinalIgnoreCase, out var rest)
            || (rest.HasValue && rest.Value != "/"))
        {
            http.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        if (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
        {
            await WriteWsdlAsync(http);
            return;
        }

        if (!HttpMethods.IsPost(request.Method))
        {
            http.Response.Headers.Allow = "GET, HEAD, POST";
            http.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            return;
        }

        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType)
            || !mediaType.MediaType.Equals("text/xml", StringComparison.OrdinalIgnoreCase))
        {
            await SoapFaults.WriteAsync(http, SoapFaults.BadRequest(
                $"The content type is '{request.ContentType}'; Relay's SOAP front door speaks SOAP 1.1, sent as text/xml.",
                "Use BasicHttpBinding (SOAP 1.1), or send the envelope with Content-Type: text/xml; charset=utf-8."),
                StatusCodes.Status415UnsupportedMediaType);
            return;
        }

        if (request.ContentLength > _maxEnvelopeBytes)
        {
            // Refused without reading a byte of the body.
            await SoapFaults.WriteAsync(http, TooLarge());
            return;
        }

        if (await ReadCappedAsync(http) is not (byte[] array, int length))
        {
            await SoapFaults.WriteAsync(http, TooLarge());
            return;
        }

        try
        {
            var envelope = new MemoryStream(array, 0, length, writable: false);
            // The common case, read once and answered without SoapCore; anything else goes on as before.
            if (SoapSendFastPath.MayServe(request, mediaType) && SoapSendFastPath.TryRead(envelope) is { } send)
            {
                await sendFastPath.AnswerAsync(http, send);
                return;
            }

            if (Inspect(envelope) is { } problem)
            {
                await SoapFaults.WriteAsync(http, problem);
                return;
            }

            envelope.Position = 0;
            request.Body = envelope;
            request.ContentLength = length;
            await next(http);
        }
        finally
        {
            // SoapCore (or the fast path) has read the whole envelope before it answers: nothing holds the array after this.
            ArrayPool<byte>.Shared.Return(array);
        }
    }

    /// <summary>
    /// <c>?wsdl</c> (also <c>?singleWsdl</c>, and the bare address, as WCF answers them): Relay's own WSDL, see
    /// <see cref="MessagingWsdl"/>. SoapCore's metadata pages are not served.
    /// </summary>
    private static async Task WriteWsdlAsync(HttpContext http)
    {
        var query = http.Request.Query;
        if (query.Count > 0 && !query.ContainsKey("wsdl") && !query.ContainsKey("singleWsdl"))
        {
            http.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        var request = http.Request;
        var wsdl = MessagingWsdl.Write($"{request.Scheme}://{request.Host}{request.PathBase}{SoapFrontDoorExtensions.Path}");
        http.Response.ContentType = "text/xml; charset=utf-8";
        http.Response.ContentLength = wsdl.Length;
        if (HttpMethods.IsGet(request.Method))
        {
            await http.Response.Body.WriteAsync(wsdl, http.RequestAborted);
        }
    }

    /// <summary>
    /// The body in a pooled array (the caller returns it), or null when it is longer than the limit (reading stops just
    /// past it). Sized by Content-Length when the client sent one (a WCF client does): no new arrays per request for
    /// an envelope of ordinary size (issue 14).
    /// </summary>
    private async Task<(byte[] Array, int Length)?> ReadCappedAsync(HttpContext http)
    {
        var declared = http.Request.ContentLength ?? 0;
        var limit = (int)Math.Min(_maxEnvelopeBytes + 1, int.MaxValue);
        var array = ArrayPool<byte>.Shared.Rent((int)Math.Min(Math.Max(declared + 1, 4096), limit));
        var length = 0;
        try
        {
            while (true)
            {
                if (length == array.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)array.Length * 2, limit));
                    array.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(array);
                    array = larger;
                }

                var read = await http.Request.Body.ReadAsync(array.AsMemory(length, Math.Min(array.Length, limit) - length), http.RequestAborted);
                if (read == 0)
                {
                    return (array, length);
                }

                length += read;
                if (length > _maxEnvelopeBytes)
                {
                    ArrayPool<byte>.Shared.Return(array);
                    return null;
                }
            }
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            // The server's own limit on request bodies came first.
            ArrayPool<byte>.Shared.Return(array);
            return null;
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(array);
            throw;
        }
    }

    /// <summary>A fault when the body is not a well-formed SOAP 1.1 envelope without a DTD; null when it may go on to SoapCore.</summary>
    internal static FaultException<RelayFault>? Inspect(Stream body)
    {
        body.Position = 0;
        try
        {
            using var reader = XmlReader.Create(body, InspectSettings);
            if (reader.MoveToContent() != XmlNodeType.Element || reader.LocalName != "Envelope" || reader.NamespaceURI != Soap11Envelope)
            {
                var root = reader.NodeType == XmlNodeType.Element ? $"{{{reader.NamespaceURI}}}{reader.LocalName}" : "none";
                return SoapFaults.BadRequest(
                    $"The body is not a SOAP 1.1 envelope (its root element is {root}).",
                    $"Send an Envelope in the namespace {Soap11Envelope} (BasicHttpBinding).");
            }

            while (reader.Read())
            {
                if (reader.Depth > MaxDepth)
                {
                    return SoapFaults.BadRequest($"The envelope nests deeper than {MaxDepth} levels.", "A Send or GetStatus request needs fewer than ten.");
                }
            }

            return null;
        }
        catch (XmlException ex) when (ex.Message.Contains("DTD", StringComparison.Ordinal))
        {
            return SoapFaults.BadRequest(
                "The envelope has a DOCTYPE; Relay refuses DTDs and entity declarations in SOAP requests.",
                "Send the envelope without a DOCTYPE. Nothing was stored.");
        }
        catch (XmlException ex)
        {
            return SoapFaults.BadRequest("The body is not well-formed XML.", $"{ex.Message} Nothing was stored.");
        }
    }

    private FaultException<RelayFault> TooLarge() => SoapFaults.From(RelayError.TooLarge(
        $"The SOAP request is larger than {_maxEnvelopeBytes} bytes, the most Relay reads for a payload limit of {options.Value.Limits.MaxPayloadBytes} bytes.",
        "Send a smaller payload, or raise Relay:Limits:MaxPayloadBytes. Nothing was stored."));
}
