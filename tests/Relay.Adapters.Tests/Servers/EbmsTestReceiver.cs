using System.Collections.Concurrent;
using System.Xml.Linq;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MimeKit;
using Relay.Adapters.Ebms;
using Relay.Adapters.Tests.Ebms;

namespace Relay.Adapters.Tests.Servers;

/// <summary>One ebMS message as the strict receiver read it, with every rule it broke.</summary>
public sealed record EbmsReceived
{
    public required string Path { get; init; }
    public required IReadOnlyList<string> Problems { get; init; }
    public string? MessageId { get; init; }
    public string? ConversationId { get; init; }
    public string? CpaId { get; init; }
    public string? FromPartyId { get; init; }
    public string? FromPartyType { get; init; }
    public string? ToPartyId { get; init; }
    public string? Service { get; init; }
    public string? ServiceType { get; init; }
    public string? Action { get; init; }
    public DateTimeOffset? Timestamp { get; init; }
    public DateTimeOffset? TimeToLive { get; init; }
    public bool AckRequested { get; init; }
    public bool SyncReply { get; init; }
    public bool DuplicateElimination { get; init; }
    public byte[] Payload { get; init; } = [];
    public string? PayloadContentType { get; init; }
    public string? AttemptHeader { get; init; }
}

/// <summary>What the receiver answers one message with.</summary>
public abstract record EbmsAnswer
{
    /// <summary>An eb:Acknowledgment of the message (in a multipart/related when <c>Multipart</c>).</summary>
    public sealed record Ack(bool Multipart = false, string? RefersTo = null) : EbmsAnswer;
    /// <summary>An eb:ErrorList about the message.</summary>
    public sealed record Errors(params (string Code, string Severity, string Description)[] List) : EbmsAnswer;
    /// <summary>An HTTP status with an empty body (200: received, no acknowledgment in the reply).</summary>
    public sealed record Status(int Code) : EbmsAnswer;
    /// <summary>A SOAP fault, HTTP 500.</summary>
    public sealed record Fault(string Code, string Reason) : EbmsAnswer;
}

/// <summary>
/// A strict receiving MSH for the tests: Kestrel on 127.0.0.1, reading each POST as ebMS 2.0 demands it and noting every
/// rule broken (<see cref="EbmsReceived.Problems"/>): <c>SOAPAction: "ebXML"</c>; <c>multipart/related</c> with
/// <c>type="text/xml"</c> and a <c>start</c> naming the first part's Content-ID; the envelope valid against the normative
/// schemas; <c>eb:MessageHeader</c> with <c>SOAP:mustUnderstand="1"</c> and <c>eb:version="2.0"</c>; one
/// <c>eb:Reference</c> per payload part, each <c>cid:</c> naming a part that exists. A message that breaks a rule is
/// answered with a Client fault, as a real MSH would refuse it. Otherwise it answers what the test scripted, else the default.
/// </summary>
public sealed class EbmsTestReceiver : IAsyncDisposable
{
    private static readonly XNamespace Soap = EbmsNames.Soap;
    private static readonly XNamespace Eb = EbmsNames.Eb;
    private static readonly XNamespace XLink = EbmsNames.XLink;

    private readonly ConcurrentQueue<EbmsReceived> _received = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<EbmsAnswer>> _scripts = new();
    private readonly ConcurrentDictionary<string, EbmsAnswer> _defaults = new();
    private WebApplication _app = null!;

    public string BaseUrl { get; private set; } = "";

    public string Url(string path) => BaseUrl + path;

    public IReadOnlyList<EbmsReceived> Received => _received.ToArray();

    public IReadOnlyList<EbmsReceived> ReceivedAt(string path) => _received.Where(r => r.Path == path).ToArray();

    public static async Task<EbmsTestReceiver> StartAsync()
    {
        var receiver = new EbmsTestReceiver();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        receiver._app = builder.Build();
        receiver._app.Run(receiver.HandleAsync);
        await receiver._app.StartAsync();
        receiver.BaseUrl = receiver._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        return receiver;
    }

    /// <summary>Every message to <paramref name="path"/> is answered so, after any scripted answers (default: an acknowledgment).</summary>
    public void Answer(string path, EbmsAnswer answer) => _defaults[path] = answer;

    /// <summary>The next messages to <paramref name="path"/> get these answers in order.</summary>
    public void Script(string path, params EbmsAnswer[] answers)
    {
        var queue = _scripts.GetOrAdd(path, _ => new ConcurrentQueue<EbmsAnswer>());
        foreach (var answer in answers)
        {
            queue.Enqueue(answer);
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer);
        var path = context.Request.Path.Value ?? "/";
        var received = Read(path, context.Request.Headers, buffer.ToArray());
        _received.Enqueue(received);

        EbmsAnswer answer = received.Problems.Count > 0
            ? new EbmsAnswer.Fault("Client", "Not an ebMS 2.0 message: " + string.Join("; ", received.Problems))
            : _scripts.TryGetValue(path, out var queue) && queue.TryDequeue(out var scripted) ? scripted
            : _defaults.TryGetValue(path, out var fixedAnswer) ? fixedAnswer : new EbmsAnswer.Ack();
        var messageId = received.MessageId ?? "unknown";
        switch (answer)
        {
            case EbmsAnswer.Ack ack when ack.Multipart:
                var package = EbmsPackage.Build(Encoding.UTF8.GetBytes(EbmsReplies.Acknowledgment(ack.RefersTo ?? messageId)), "ack-header@partner",
                    Encoding.UTF8.GetBytes("{}"), "unused@partner", "application/json");
                context.Response.ContentType = package.ContentType;
                await context.Response.Body.WriteAsync(package.Body);
                break;
            case EbmsAnswer.Ack ack:
                await Xml(context, 200, EbmsReplies.Acknowledgment(ack.RefersTo ?? messageId));
                break;
            case EbmsAnswer.Errors errors:
                await Xml(context, 200, EbmsReplies.ErrorList(messageId, errors.List));
                break;
            case EbmsAnswer.Fault fault:
                await Xml(context, 500, EbmsReplies.Fault(fault.Code, fault.Reason));
                break;
            case EbmsAnswer.Status status:
                context.Response.StatusCode = status.Code;
                break;
        }
    }

    private static Task Xml(HttpContext context, int status, string body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/xml; charset=utf-8";
        return context.Response.WriteAsync(body);
    }

    private static EbmsReceived Read(string path, IHeaderDictionary headers, byte[] body)
    {
        var problems = new List<string>();
        if (headers["SOAPAction"].ToString() != "\"ebXML\"")
        {
            problems.Add($"SOAPAction is {headers["SOAPAction"]}, not \"ebXML\"");
        }

        if (!ContentType.TryParse(headers.ContentType.ToString(), out var type) || !type.IsMimeType("multipart", "related"))
        {
            problems.Add($"Content-Type is {headers.ContentType}, not multipart/related");
            return new EbmsReceived { Path = path, Problems = problems };
        }

        if (type.Parameters["type"] != "text/xml")
        {
            problems.Add($"the type parameter is {type.Parameters["type"]}, not text/xml");
        }

        var start = type.Parameters["start"];
        if (start is null || !start.StartsWith('<') || !start.EndsWith('>'))
        {
            problems.Add($"the start parameter is {start ?? "missing"}, not <content-id>");
        }

        if (MimeEntity.Load(type, new MemoryStream(body)) is not Multipart { Count: >= 2 } related)
        {
            problems.Add("not a multipart with an envelope and a payload");
            return new EbmsReceived { Path = path, Problems = problems };
        }

        var root = (MimePart)related[0];
        if (start is not null && "<" + root.ContentId + ">" != start)
        {
            problems.Add($"the first part's Content-ID <{root.ContentId}> is not the start {start}");
        }

        if (!root.ContentType.IsMimeType("text", "xml"))
        {
            problems.Add($"the envelope's part is {root.ContentType.MimeType}, not text/xml");
        }

        var envelope = Decode(root);
        problems.AddRange(EbmsSchemas.Validate(envelope).Select(p => "schema: " + p));
        var document = XDocument.Load(new MemoryStream(envelope));
        var header = document.Root?.Element(Soap + "Header");
        var messageHeader = header?.Element(Eb + "MessageHeader");
        if (messageHeader is null)
        {
            problems.Add("no eb:MessageHeader");
            return new EbmsReceived { Path = path, Problems = problems };
        }

        if ((string?)messageHeader.Attribute(Soap + "mustUnderstand") != "1")
        {
            problems.Add("eb:MessageHeader is not SOAP:mustUnderstand=\"1\"");
        }

        if ((string?)messageHeader.Attribute(Eb + "version") != "2.0")
        {
            problems.Add("eb:MessageHeader's eb:version is not 2.0");
        }

        var references = document.Root!.Element(Soap + "Body")?.Element(Eb + "Manifest")?.Elements(Eb + "Reference")
            .Select(r => (string?)r.Attribute(XLink + "href")).ToList() ?? [];
        var payloadParts = related.Skip(1).OfType<MimePart>().ToList();
        foreach (var href in references)
        {
            if (href is null || !href.StartsWith("cid:", StringComparison.Ordinal))
            {
                problems.Add($"a reference is {href ?? "missing"}, not cid:");
            }
            else if (payloadParts.All(p => p.ContentId != href[4..]))
            {
                problems.Add($"no part has the Content-ID of {href}");
            }
        }

        foreach (var part in payloadParts.Where(p => !references.Contains("cid:" + p.ContentId)))
        {
            problems.Add($"the part <{part.ContentId}> is in no eb:Reference");
        }

        var data = messageHeader.Element(Eb + "MessageData");
        var service = messageHeader.Element(Eb + "Service");
        var from = messageHeader.Element(Eb + "From")?.Element(Eb + "PartyId");
        return new EbmsReceived
        {
            Path = path,
            Problems = problems,
            MessageId = (string?)data?.Element(Eb + "MessageId"),
            Timestamp = (DateTimeOffset?)data?.Element(Eb + "Timestamp"),
            TimeToLive = (DateTimeOffset?)data?.Element(Eb + "TimeToLive"),
            ConversationId = (string?)messageHeader.Element(Eb + "ConversationId"),
            CpaId = (string?)messageHeader.Element(Eb + "CPAId"),
            FromPartyId = (string?)from,
            FromPartyType = (string?)from?.Attribute(Eb + "type"),
            ToPartyId = (string?)messageHeader.Element(Eb + "To")?.Element(Eb + "PartyId"),
            Service = (string?)service,
            ServiceType = (string?)service?.Attribute(Eb + "type"),
            Action = (string?)messageHeader.Element(Eb + "Action"),
            AckRequested = header!.Element(Eb + "AckRequested") is not null,
            SyncReply = header.Element(Eb + "SyncReply") is not null,
            DuplicateElimination = messageHeader.Element(Eb + "DuplicateElimination") is not null,
            Payload = payloadParts.Count > 0 ? Decode(payloadParts[0]) : [],
            PayloadContentType = payloadParts.FirstOrDefault()?.ContentType.MimeType,
            AttemptHeader = headers["X-Relay-Attempt"].ToString(),
        };
    }

    private static byte[] Decode(MimePart part)
    {
        using var output = new MemoryStream();
        part.Content!.DecodeTo(output);
        return output.ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
