using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using Microsoft.Extensions.Options;
using Relay.Adapters.Ebms;
using Relay.Contracts;
using Relay.Core.Delivery;
using Relay.Core.Options;
using Relay.Silo.Security;

namespace Relay.Silo.Ebms;

/// <summary>What became of an acknowledgment (or error list) a partner posted: the <c>X-Relay-Acknowledgment</c> of the answer.</summary>
public enum AcknowledgmentAnswer
{
    /// <summary>The delivery it refers to took it: Delivered, DeadLettered, or InRetry for a retryable error.</summary>
    Completed,
    /// <summary>No delivery of this partner's destination has that MessageId (never sent, or removed since).</summary>
    Unknown,
    /// <summary>The delivery is final already (a duplicate acknowledgment, or one after the last attempt's deadline): nothing changes.</summary>
    AlreadyFinal,
    /// <summary>The delivery's MessageId is another now (its payload was edited since): nothing changes.</summary>
    NotCurrent,
    /// <summary>It says nothing about the message (warnings only): nothing changes.</summary>
    NothingToDo,
}

/// <summary>Hands an acknowledgment to the delivery it refers to (the delivery grain decides).</summary>
public interface IEbmsAcknowledgments
{
    /// <param name="messageId">The Relay message id the ebXML MessageId names.</param>
    /// <param name="destination">The destination it names (the one whose partner key the request presented).</param>
    /// <param name="ebmsMessageId">The MessageId acknowledged: the delivery compares it with its current one.</param>
    /// <param name="outcome">Success (an acknowledgment), or the error list's classification.</param>
    /// <param name="error">The error list's line for the audit; null for an acknowledgment.</param>
    /// <param name="body">The signal as received (cut to the response body limit), for the audit.</param>
    Task<AcknowledgmentAnswer> AcknowledgeAsync(string messageId, string destination, string ebmsMessageId, AttemptOutcome outcome,
        string? error, string? body);
}

/// <summary>
/// <c>POST /ebms</c> on every silo: where a partner's MSH posts the acknowledgments and error lists of the messages an
/// ebXML destination with <c>SyncReply: false</c> sent (ebMS 2.0 §6.3.2, §4.2.4). Authenticated per destination with HTTP
/// Basic: the user is the destination's name, the password its <c>Ebms:PartnerKey</c> (compared in constant time; a wrong
/// one counts against the client's address as a wrong API key does). The body, a SOAP envelope or a
/// <c>multipart/related</c> with one, is read as the adapter reads a reply (<see cref="EbmsSignalReader"/>: no DTD, nothing
/// resolved, at most <see cref="MaxBodyBytes"/>). The delivery it refers to (by <c>RefToMessageId</c>, which names the
/// message and the destination, <see cref="EbmsMessageId"/>) completes; an acknowledgment for an unknown delivery, one of
/// another destination, or a final one is answered 200 all the same and changes nothing (idempotent: a partner that posts
/// twice, or late, is not told to try again). Whatever cannot be read is answered 400 with a SOAP fault.
/// </summary>
public static partial class EbmsEndpoints
{
    public const string Path = "/ebms";

    /// <summary>The answer's header that says what became of the signal (<see cref="AcknowledgmentAnswer"/>).</summary>
    public const string AnswerHeader = "X-Relay-Acknowledgment";

    /// <summary>The largest body read; acknowledgments and error lists are a few KiB.</summary>
    public const int MaxBodyBytes = 1024 * 1024;

    public static IEndpointRouteBuilder MapEbmsEndpoints(this IEndpointRouteBuilder app)
    {
        // Not a sender's or an operator's call: the partner key is checked here, per destination.
        app.MapPost(Path, ReceiveAsync).AllowAnonymous().DisableAntiforgery()
            .WithName("EbmsSignal")
            .WithTags(Api.ApiReference.DestinationsTag)
            .WithSummary("An ebXML partner's acknowledgment or error list")
            .WithDescription("Where the MSH of an Ebms2 destination with SyncReply false posts its eb:Acknowledgment and eb:ErrorList "
                + "messages (SOAP 1.1, text/xml or multipart/related), with HTTP Basic: the destination's name and its Ebms:PartnerKey. "
                + "200 with X-Relay-Acknowledgment (Completed, Unknown, AlreadyFinal, NotCurrent, NothingToDo); 400, 401, 413, 503 with a SOAP fault.")
            .Produces(StatusCodes.Status200OK)
            .Produces<string>(StatusCodes.Status400BadRequest, "text/xml")
            .Produces<string>(StatusCodes.Status401Unauthorized, "text/xml")
            .Produces<string>(StatusCodes.Status413PayloadTooLarge, "text/xml")
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .Produces<string>(StatusCodes.Status503ServiceUnavailable, "text/xml");
        return app;
    }

    private static async Task<IResult> ReceiveAsync(HttpContext http, IOptions<RelayOptions> options, IEbmsAcknowledgments deliveries,
        FailedAuthThrottle throttle, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger(typeof(EbmsEndpoints));
        var client = ClientAddress.Of(http.Connection.RemoteIpAddress);
        if (throttle.Check(client, null) is { } retryAfter)
        {
            http.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Fault(StatusCodes.Status429TooManyRequests, "Client", "Too many failed authentications from this address; wait and try again.");
        }

        if (Authenticate(http.Request, options.Value) is not { } destination)
        {
            throttle.Failed(client);
            http.Response.Headers.WWWAuthenticate = "Basic realm=\"ebms\", charset=\"UTF-8\"";
            return Fault(StatusCodes.Status401Unauthorized, "Client",
                "Authenticate with HTTP Basic: the user is the ebXML destination's name, the password its Ebms:PartnerKey.");
        }

        var body = await ReadBoundedAsync(http.Request);
        if (body is null)
        {
            return Fault(StatusCodes.Status413PayloadTooLarge, "Client", $"The message is larger than {MaxBodyBytes} bytes.");
        }

        EbmsSignal signal;
        try
        {
            signal = EbmsSignalReader.Read(EbmsPackage.ReadEnvelope(body, http.Request.ContentType));
        }
        catch (EbmsFormatException ex)
        {
            return Fault(StatusCodes.Status400BadRequest, "Client", ex.Message);
        }

        if (signal.AcknowledgedMessageId is null && !signal.HasErrorList)
        {
            return Fault(StatusCodes.Status400BadRequest, "Client",
                "Relay takes only eb:Acknowledgment and eb:ErrorList messages here (the answers to the messages it sent), no business messages.");
        }

        if (signal.RefersTo is not { } refersTo)
        {
            return Fault(StatusCodes.Status400BadRequest, "Client", "The message names no eb:RefToMessageId: it cannot be matched to a message Relay sent.");
        }

        var answer = AcknowledgmentAnswer.Unknown;
        if (EbmsMessageId.TryRead(refersTo, out var messageId, out var named) && string.Equals(named, destination, StringComparison.Ordinal))
        {
            if (EbmsReplyClassifier.Judge(signal, refersTo) is { } judged)
            {
                try
                {
                    answer = await deliveries.AcknowledgeAsync(messageId, destination, refersTo, judged.Outcome, judged.Error,
                        ResponseText.FromBytes(body.AsSpan(0, Math.Min(body.Length, options.Value.Limits.MaxResponseBodyBytes))));
                }
                catch (Exception ex) when (!http.RequestAborted.IsCancellationRequested)
                {
                    // Storage or cluster unavailable: the partner's MSH posts again (an acknowledgment is idempotent).
                    Log.Failed(logger, ex, destination, refersTo);
                    return Fault(StatusCodes.Status503ServiceUnavailable, "Server", "Relay could not record this acknowledgment now; send it again later.");
                }
            }
            else
            {
                answer = AcknowledgmentAnswer.NothingToDo;
            }
        }

        Log.Received(logger, destination, refersTo, answer);
        http.Response.Headers[AnswerHeader] = answer.ToString();
        return Results.Ok();
    }

    /// <summary>The destination whose partner key the request presents (HTTP Basic: its name, its key), or null.</summary>
    private static string? Authenticate(HttpRequest request, RelayOptions options)
    {
        if (!AuthenticationHeaderValue.TryParse(request.Headers.Authorization.ToString(), out var header)
            || !string.Equals(header.Scheme, "Basic", StringComparison.OrdinalIgnoreCase) || header.Parameter is null)
        {
            return null;
        }

        string credentials;
        try
        {
            credentials = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Convert.FromBase64String(header.Parameter));
        }
        catch (Exception ex) when (ex is FormatException or DecoderFallbackException)
        {
            return null;
        }

        var colon = credentials.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            return null;
        }

        var name = credentials[..colon];
        // Compared as hashes in constant time, whether or not the destination exists, so the answer's time tells nothing.
        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(credentials[(colon + 1)..]));
        var configured = options.Destinations.GetValueOrDefault(name) is EbmsDestinationOptions { Ebms.PartnerKey: { Length: > 0 } key }
            ? SHA256.HashData(Encoding.UTF8.GetBytes(key))
            : null;
        return CryptographicOperations.FixedTimeEquals(presented, configured ?? new byte[presented.Length]) && configured is not null ? name : null;
    }

    private static async Task<byte[]?> ReadBoundedAsync(HttpRequest request)
    {
        if (request.ContentLength > MaxBodyBytes)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    /// <summary>A SOAP 1.1 fault, as an MSH answers what it cannot take.</summary>
    private static IResult Fault(int status, string code, string reason)
    {
        XNamespace soap = EbmsNames.Soap;
        var envelope = new XElement(soap + "Envelope", new XAttribute(XNamespace.Xmlns + "SOAP", soap.NamespaceName),
            new XElement(soap + "Body", new XElement(soap + "Fault",
                new XElement("faultcode", "SOAP:" + code), new XElement("faultstring", reason))));
        return Results.Text(envelope.ToString(SaveOptions.DisableFormatting), "text/xml; charset=utf-8", Encoding.UTF8, status);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4301, Level = LogLevel.Information,
            Message = "ebXML signal from the partner of {Destination} about {EbmsMessageId}: {Answer}")]
        public static partial void Received(ILogger logger, string destination, string ebmsMessageId, AcknowledgmentAnswer answer);

        [LoggerMessage(EventId = 4302, Level = LogLevel.Error, Message = "ebXML signal from the partner of {Destination} about {EbmsMessageId}: recording it failed")]
        public static partial void Failed(ILogger logger, Exception exception, string destination, string ebmsMessageId);
    }
}

