using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Relay.Adapters.Http;
using Relay.Contracts;
using Relay.Core.Delivery;
using Relay.Core.Messages;
using Relay.Core.Options;

namespace Relay.Adapters.Ebms;

/// <summary>
/// A sending ebMS 2.0 MSH (<c>Protocol: Ebms2</c>): each attempt POSTs the payload as the second part of a
/// <c>multipart/related</c> whose first part is the SOAP envelope with <c>eb:MessageHeader</c> (<see cref="EbmsEnvelope"/>,
/// <see cref="EbmsPackage"/>), <c>SOAPAction: "ebXML"</c>, the destination's headers, and Relay's (<c>Idempotency-Key</c>,
/// <c>X-Relay-Attempt</c>). Every attempt of a delivery carries the same MessageId (<see cref="EbmsMessageId"/>). The
/// synchronous reply is judged by <see cref="EbmsReplyClassifier"/>: an acknowledgment of that MessageId delivers.
/// </summary>
public sealed partial class EbmsAdapter(IOptions<EbmsAdapterOptions> options, TimeProvider time, ILogger<EbmsAdapter> logger, DestinationFaults? faults = null)
    : IProtocolAdapter<EbmsDestinationOptions>, IDisposable
{
    /// <summary>The response header (of the delivery's <c>response.headers</c>) that gives the ebXML MessageId sent.</summary>
    public const string MessageIdHeader = "ebXML-MessageId";

    private readonly HttpAttempts _http = new(options.Value, time, faults, logger);

    public string Protocol => "Ebms2";

    public RelayError? TakeFields(SendRequest request, IReadOnlyList<KeyValuePair<string, DestinationOptions>> destinations, IDictionary<string, string> stored) =>
        EbmsMessageFields.Take(request, destinations, stored);

    public async Task<AttemptResult> SendAsync(OutboundMessage message, EbmsDestinationOptions destination, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var messageId = EbmsMessageId.For(message.MessageId, message.DestinationName, message.Payload.Span);
        var result = await _http.SendAsync(message, destination, () => BuildRequest(message, destination, messageId, _http.Now, _http.Secrets), timeout,
            (response, body) => Answered(response, body, destination, messageId),
            error => Log.AttemptFailed(logger, message.MessageId, message.DestinationName, error), cancellationToken).ConfigureAwait(false);
        return WithMessageId(result, messageId);
    }

    internal static HttpRequestMessage BuildRequest(OutboundMessage message, EbmsDestinationOptions destination, string messageId, DateTimeOffset now,
        SecretReader secrets)
    {
        var ebms = destination.Ebms;
        // Content-IDs unique to the message, and short whatever its id: the MessageId's hash part.
        var unique = messageId[..messageId.IndexOf('@', StringComparison.Ordinal)];
        unique = unique[(unique.LastIndexOf('.') + 1)..];
        var envelopeId = $"ebxml-header.{unique}@{EbmsMessageId.Domain}";
        var payloadId = $"payload-1.{unique}@{EbmsMessageId.Domain}";
        var hasService = message.Headers.TryGetValue(EbmsMessageFields.Service, out var service);
        var header = new EbmsHeader
        {
            FromPartyId = ebms.FromPartyId ?? "",
            FromPartyType = ebms.FromPartyType,
            ToPartyId = ebms.ToPartyId ?? "",
            ToPartyType = ebms.ToPartyType,
            CpaId = ebms.CpaId ?? "",
            // A conversation is what the sender correlates; without a correlation id, the message is one of its own.
            ConversationId = message.CorrelationId ?? message.MessageId,
            Service = hasService ? service! : ebms.Service ?? "",
            ServiceType = hasService ? message.Headers.GetValueOrDefault(EbmsMessageFields.ServiceType) : ebms.ServiceType,
            Action = message.Headers.GetValueOrDefault(EbmsMessageFields.Action) ?? ebms.Action ?? "",
            MessageId = messageId,
            Timestamp = now,
            TimeToLive = ebms.TimeToLive is { } ttl ? now + ttl : null,
            DuplicateElimination = ebms.DuplicateElimination,
            AckRequested = ebms.AckRequested,
            SyncReply = ebms.SyncReply,
            PayloadContentIds = [payloadId],
        };
        var body = EbmsPackage.Build(EbmsEnvelope.Build(header), envelopeId, message.Payload, payloadId, message.ContentType);

        var request = new HttpRequestMessage(HttpMethod.Post, destination.Address) { Version = HttpVersion.Version11 };
        request.Content = new ByteArrayContent(body.Body);
        request.Content.Headers.TryAddWithoutValidation("Content-Type", body.ContentType);
        // The packaging's content type and SOAPAction are the protocol's, whatever the message or the configuration says.
        HttpTransport.SetHeaders(request, message, destination, secrets,
            name => name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase) || name.Equals("SOAPAction", StringComparison.OrdinalIgnoreCase));
        request.Headers.TryAddWithoutValidation("SOAPAction", "\"ebXML\"");
        HttpTransport.SetRelayHeaders(request, message);
        return request;
    }

    private AttemptResult Answered(HttpResponseMessage response, string? body, EbmsDestinationOptions destination, string messageId)
    {
        var code = (int)response.StatusCode;
        var (outcome, error, awaits) = Judge(code, HttpTransport.ReasonPhrase(response), response.Content.Headers.ContentType?.ToString(), body, destination.Ebms, messageId);
        return new AttemptResult
        {
            Outcome = outcome,
            StatusCode = code,
            Error = outcome == AttemptOutcome.Success ? null : error,
            Headers = HttpTransport.NotableHeaders(response),
            Body = body,
            RetryAfter = outcome == AttemptOutcome.RetryableFailure ? _http.RetryAfter(response) : null,
            AwaitsAcknowledgment = awaits,
        };
    }

    /// <summary>
    /// The outcome of the HTTP reply to an attempt: its ebMS signal first (an acknowledgment, an error list, a fault), then
    /// its HTTP status (see <see cref="EbmsReplyClassifier"/>); with <c>SyncReply</c> off and <c>AckRequested</c> on, a
    /// 2xx without a signal means "taken, the acknowledgment comes later" (<see cref="AttemptResult.AwaitsAcknowledgment"/>).
    /// </summary>
    internal static (AttemptOutcome Outcome, string? Error, bool AwaitsAcknowledgment) Judge(int statusCode, string? reasonPhrase, string? contentType,
        string? body, EbmsSettings ebms, string messageId)
    {
        string? unreadable = null;
        if (!string.IsNullOrEmpty(body))
        {
            try
            {
                // The body as stored is ResponseText: its bytes come back exactly (cut at the adapter's limit).
                var signal = EbmsSignalReader.Read(EbmsPackage.ReadEnvelope(ResponseText.ToBytes(body), contentType));
                if (EbmsReplyClassifier.Judge(signal, messageId) is { } judged)
                {
                    return (judged.Outcome, judged.Error, false);
                }
            }
            catch (EbmsFormatException ex)
            {
                unreadable = ex.Message;
            }
        }

        var status = $"{statusCode} {reasonPhrase}".TrimEnd();
        if (statusCode is < 200 or > 299)
        {
            return (HttpFailureClassifier.Classify(statusCode), status, false);
        }

        if (ebms.AckRequested && !ebms.SyncReply)
        {
            // Taken: the acknowledgment comes later, to POST /ebms.
            return (AttemptOutcome.Success, null, true);
        }

        if (ebms.AckRequested)
        {
            // Asked for in the reply and not there: the receiving MSH may not have the message; the retry carries the same MessageId.
            return (AttemptOutcome.RetryableFailure, unreadable is null
                ? $"No ebXML acknowledgment in the reply ({status})"
                : $"No ebXML acknowledgment in the reply ({status}): {unreadable}", false);
        }

        return (AttemptOutcome.Success, null, false);
    }

    private static AttemptResult WithMessageId(AttemptResult result, string messageId)
    {
        var headers = new Dictionary<string, string>(result.Headers ?? new Dictionary<string, string>(), StringComparer.OrdinalIgnoreCase)
        {
            [MessageIdHeader] = messageId,
        };
        return result with { Headers = headers };
    }

    public void Dispose() => _http.Dispose();

    private static partial class Log
    {
        [LoggerMessage(EventId = 2701, Level = LogLevel.Debug, Message = "ebXML attempt of message {MessageId} to {Destination} failed: {Error}")]
        public static partial void AttemptFailed(ILogger logger, string messageId, string destination, string error);
    }
}
