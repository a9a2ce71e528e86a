using System.Buffers;
using System.Runtime.Serialization;
using System.Text;
using System.Xml;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
using Relay.Contracts;
using Relay.Silo.Messaging;
using Relay.Silo.Security;

namespace Relay.Silo.Soap;

/// <summary>
/// The common SOAP request served without SoapCore (issue 14): a <c>Send</c> as a stock WCF client sends it, with no
/// SOAP header. SoapCore loads an envelope into an XDocument, builds a WCF Message from it, makes a new
/// DataContractSerializer for the parameter and another for the answer, and dispatches by reflection: about 2.5 times
/// the CPU of the JSON API per message. Here the envelope is read once, by one reader, straight into a
/// <see cref="SendRequest"/>, and the answer is written straight from the <see cref="SendResult"/>.
/// </summary>
/// <remarks>
/// <para>
/// What this does not recognise goes on to <see cref="SoapEnvelopeGuard.Inspect"/> and SoapCore exactly as before,
/// so every fault they give stays the same: another action (GetStatus), an <c>s:Header</c>, anything in the body but
/// the one <c>Send</c> with its one <c>request</c>, a request that does not deserialize, and every envelope the
/// guard refuses (a DOCTYPE, nesting deeper than <see cref="SoapEnvelopeGuard.MaxDepth"/>, XML that is not
/// well-formed). Nothing is sent before the whole envelope has been read, so falling back never sends twice.
/// </para>
/// <para>
/// The reader is the guard's own (<see cref="SoapEnvelopeGuard.InspectSettings"/>: DTDs prohibited, no resolver),
/// and <see cref="DepthLimitedReader"/> holds it to the guard's depth limit on every node it passes, including those
/// the deserializer skips; so what the fast path accepts, the guard would have let through to SoapCore.
/// </para>
/// </remarks>
internal sealed class SoapSendFastPath(MessageService messages, ILogger<SoapSendFastPath> logger)
{
    internal const string SendAction = RelayNamespaces.Messaging + "/IMessagingService/Send";

    private const string Soap11Envelope = "http://schemas.xmlsoap.org/soap/envelope/";

    // What SoapCore makes per request, made once: the parameter as WCF names it (its name in the operation's namespace)
    // and the return value as WCF names it (the operation's name + "Result", inside "SendResponse"). Both are thread-safe.
    private static readonly DataContractSerializer RequestSerializer = new(typeof(SendRequest), "request", RelayNamespaces.Messaging);
    private static readonly DataContractSerializer ResultSerializer = new(typeof(SendResult), "SendResult", RelayNamespaces.Messaging);

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>
    /// Whether the request may be a Send this serves: its SOAPAction is Send's (quoted or not) or empty (then the body
    /// names the operation, as SoapCore reads it), and it is UTF-8, the only encoding this reads as SoapCore does.
    /// </summary>
    internal static bool MayServe(HttpRequest request, MediaTypeHeaderValue mediaType)
    {
        if (mediaType.Charset.HasValue && !mediaType.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var action = request.Headers["SOAPAction"];
        return action.Count switch
        {
            0 => true,
            1 => IsSendOrEmpty(action),
            _ => false,
        };

        static bool IsSendOrEmpty(StringValues action)
        {
            var value = action[0].AsSpan();
            if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
            {
                value = value[1..^1];
            }

            return value.IsEmpty || value.SequenceEqual(SendAction);
        }
    }

    /// <summary>
    /// The request of the envelope when it is exactly <c>Envelope/Body/Send/request</c>, well-formed to its end and
    /// within the depth limit; null when SoapCore is to serve it (see the remarks of the class).
    /// </summary>
    internal static SendRequest? TryRead(Stream envelope)
    {
        envelope.Position = 0;
        try
        {
            using var reader = new DepthLimitedReader(XmlReader.Create(envelope, SoapEnvelopeGuard.InspectSettings), SoapEnvelopeGuard.MaxDepth);
            if (!IsStart(reader, "Envelope", Soap11Envelope))
            {
                return null;
            }

            // The Body first: an envelope with a Header goes to SoapCore, which knows what mustUnderstand asks of it.
            reader.Read();
            if (!IsStart(reader, "Body", Soap11Envelope) || reader.IsEmptyElement)
            {
                return null;
            }

            reader.Read();
            if (!IsStart(reader, "Send", RelayNamespaces.Messaging) || reader.IsEmptyElement)
            {
                return null;
            }

            reader.Read();
            if (!IsStart(reader, "request", RelayNamespaces.Messaging)
                || RequestSerializer.ReadObject(reader, verifyObjectName: true) is not SendRequest request)
            {
                return null;
            }

            // Then nothing but the end tags of Send, Body and Envelope (the reader matches them to their start tags),
            // and the end of the document.
            for (var end = 0; end < 3; end++)
            {
                if (reader.MoveToContent() != XmlNodeType.EndElement)
                {
                    return null;
                }

                reader.Read();
            }

            while (reader.Read())
            {
            }

            return request;
        }
        catch (Exception ex) when (ex is XmlException or SerializationException or FormatException or ArgumentException or InvalidOperationException)
        {
            // SoapCore reads it again, and answers with the fault it always gave.
            return null;
        }
    }

    /// <summary>Sends the message as <see cref="MessagingSoapService.SendAsync"/> does and answers as SoapCore would.</summary>
    public async Task AnswerAsync(HttpContext http, SendRequest request)
    {
        MessageOutcome outcome;
        try
        {
            // The request was authenticated before the front door (RelaySecurityExtensions); no caller means no keys.
            outcome = await messages.SendAsync(request, http.User.Caller() ?? RelayPrincipal.Anonymous, MessageService.SoapFrontDoor);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // As SoapFaultProcessor answers an error of the system.
            SoapFaultProcessor.Log.Failed(logger, ex, SendAction);
            await SoapFaults.WriteAsync(http, SoapFaults.From(MessageService.Unavailable));
            return;
        }

        if (outcome.Error is { } error)
        {
            await SoapFaults.WriteAsync(http, SoapFaults.From(error));
            return;
        }

        using var answer = new PooledBufferStream(2048);
        using (var writer = XmlDictionaryWriter.CreateTextWriter(answer, Utf8, ownsStream: false))
        {
            writer.WriteStartElement("s", "Envelope", Soap11Envelope);
            writer.WriteStartElement("s", "Body", Soap11Envelope);
            writer.WriteStartElement("SendResponse", RelayNamespaces.Messaging);
            ResultSerializer.WriteObject(writer, outcome.Result);
            writer.WriteEndElement();
            writer.WriteEndElement();
            writer.WriteEndElement();
        }

        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = "text/xml; charset=utf-8";
        http.Response.ContentLength = answer.Length;
        await http.Response.Body.WriteAsync(answer.Written, http.RequestAborted);
    }

    private static bool IsStart(XmlReader reader, string localName, string ns) =>
        reader.MoveToContent() == XmlNodeType.Element && reader.LocalName == localName && reader.NamespaceURI == ns;

    /// <summary>
    /// An XmlReader that refuses, as <see cref="SoapEnvelopeGuard.Inspect"/> does, a node deeper than the limit: checked
    /// on every <see cref="Read"/>, through which the base class's Skip, MoveToContent and ReadElementContentAs... go
    /// too (nothing else here moves the inner reader). An XmlDictionaryReader, so the serializer takes it as it is.
    /// </summary>
    private sealed class DepthLimitedReader(XmlReader inner, int maxDepth) : XmlDictionaryReader
    {
        public override bool Read()
        {
            if (!inner.Read())
            {
                return false;
            }

            if (inner.Depth > maxDepth)
            {
                throw new XmlException($"The envelope nests deeper than {maxDepth} levels.");
            }

            return true;
        }

        public override int AttributeCount => inner.AttributeCount;
        public override string BaseURI => inner.BaseURI;
        public override int Depth => inner.Depth;
        public override bool EOF => inner.EOF;
        public override bool HasValue => inner.HasValue;
        public override bool IsDefault => inner.IsDefault;
        public override bool IsEmptyElement => inner.IsEmptyElement;
        public override string LocalName => inner.LocalName;
        public override string Name => inner.Name;
        public override string NamespaceURI => inner.NamespaceURI;
        public override XmlNameTable NameTable => inner.NameTable;
        public override XmlNodeType NodeType => inner.NodeType;
        public override string Prefix => inner.Prefix;
        public override ReadState ReadState => inner.ReadState;
        public override string Value => inner.Value;
        public override string XmlLang => inner.XmlLang;
        public override XmlSpace XmlSpace => inner.XmlSpace;
        public override string GetAttribute(int i) => inner.GetAttribute(i);
        public override string? GetAttribute(string name) => inner.GetAttribute(name);
        public override string? GetAttribute(string name, string? namespaceURI) => inner.GetAttribute(name, namespaceURI);
        public override string? LookupNamespace(string prefix) => inner.LookupNamespace(prefix);
        public override void MoveToAttribute(int i) => inner.MoveToAttribute(i);
        public override bool MoveToAttribute(string name) => inner.MoveToAttribute(name);
        public override bool MoveToAttribute(string name, string? ns) => inner.MoveToAttribute(name, ns);
        public override bool MoveToElement() => inner.MoveToElement();
        public override bool MoveToFirstAttribute() => inner.MoveToFirstAttribute();
        public override bool MoveToNextAttribute() => inner.MoveToNextAttribute();
        public override bool ReadAttributeValue() => inner.ReadAttributeValue();
        public override void ResolveEntity() => inner.ResolveEntity();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    /// <summary>A write-only stream over an array of the shared pool: the answer is built in it, then sent with its length.</summary>
    private sealed class PooledBufferStream(int capacity) : Stream
    {
        private byte[] _buffer = ArrayPool<byte>.Shared.Rent(capacity);
        private int _length;

        public ReadOnlyMemory<byte> Written => _buffer.AsMemory(0, _length);

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _length;

        public override long Position
        {
            get => _length;
            set => throw new NotSupportedException();
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (_length + buffer.Length > _buffer.Length)
            {
                var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + buffer.Length));
                _buffer.AsSpan(0, _length).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = larger;
            }

            buffer.CopyTo(_buffer.AsSpan(_length));
            _length += buffer.Length;
        }

        public override void WriteByte(byte value) => Write([value]);

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (_buffer.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = [];
            }

            base.Dispose(disposing);
        }
    }
}
