using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Relay.Contracts;
using Relay.Core.Options;
using Relay.Core.Topics;

namespace Relay.Core.Messages;

/// <summary>
/// Checks a send request against the configuration. Bad input is refused whole, before anything is
/// stored or sent, with a title that says what to change.
/// </summary>
public static class MessageValidator
{
    /// <summary>The value of <c>notify</c> that asks for no notification.</summary>
    public const string NotifyNone = "none";

    /// <summary>Ids Relay makes for its own final notifications start with this; senders cannot use it.</summary>
    public const string ReservedIdPrefix = "~";

    // Headers the transport owns, hop-by-hop headers, and the ones Relay sets itself.
    private static readonly HashSet<string> ForbiddenHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Content-Length", "Content-Type", "Transfer-Encoding", "Connection", "Keep-Alive",
        "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization", "TE", "Trailer", "Upgrade", "Expect",
        "Idempotency-Key", "X-Relay-Attempt", "X-Relay-Correlation-Id", "traceparent", "tracestate",
    };

    private const int MaxHeaderNameLength = 256;
    private const int MaxHeaderValueLength = 8 * 1024;
    private const int MaxShortFieldLength = 256;

    public static bool TryValidate(SendRequest? request, RelayOptions options, Func<string> newId,
        out ValidatedMessage? message, out RelayError? error) =>
        TryValidate(request, options, newId, protocolHeaderRule: null, out message, out error);

    /// <param name="protocolHeaderRule">
    /// What a destination's protocol refuses besides <see cref="DestinationHeaders"/>: for a destination and a header
    /// name, why the header cannot be sent there (the end of a sentence), or null.
    /// </param>
    public static bool TryValidate(SendRequest? request, RelayOptions options, Func<string> newId,
        Func<DestinationOptions, string, string?>? protocolHeaderRule, out ValidatedMessage? message, out RelayError? error) =>
        TryValidate(request, options, TopicRoutes.Compile(options.Topics), newId, protocolHeaderRule, out message, out error);

    /// <inheritdoc cref="TryValidate(SendRequest?, RelayOptions, TopicRoutes, Func{string}, Func{DestinationOptions, string, string?}?, ProtocolFieldRule?, out ValidatedMessage?, out RelayError?)"/>
    public static bool TryValidate(SendRequest? request, RelayOptions options, Func<string> newId,
        Func<DestinationOptions, string, string?>? protocolHeaderRule, ProtocolFieldRule? protocolFieldRule,
        out ValidatedMessage? message, out RelayError? error) =>
        TryValidate(request, options, TopicRoutes.Compile(options.Topics), newId, protocolHeaderRule, protocolFieldRule, out message, out error);

    /// <param name="topics">
    /// The topics of <paramref name="options"/> with their filters compiled (once, not per message): a message sent to
    /// a topic goes to the subscribers whose filter it matches.
    /// </param>
    public static bool TryValidate(SendRequest? request, RelayOptions options, TopicRoutes topics, Func<string> newId,
        Func<DestinationOptions, string, string?>? protocolHeaderRule, out ValidatedMessage? message, out RelayError? error) =>
        TryValidate(request, options, topics, newId, protocolHeaderRule, protocolFieldRule: null, out message, out error);

    /// <param name="protocolFieldRule">
    /// What the destinations' protocols make of the request's protocol fields (<see cref="SendRequest.Ebms"/>): they refuse
    /// them, or give the entries to keep with the message's content (<see cref="ProtocolFieldRule"/>). Asked with the
    /// destinations that take the message (a topic's filters applied).
    /// </param>
    public static bool TryValidate(SendRequest? request, RelayOptions options, TopicRoutes topics, Func<string> newId,
        Func<DestinationOptions, string, string?>? protocolHeaderRule, ProtocolFieldRule? protocolFieldRule,
        out ValidatedMessage? message, out RelayError? error)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(topics);
        ArgumentNullException.ThrowIfNull(newId);
        message = null;
        error = Validate(request, options, topics, newId, protocolHeaderRule, protocolFieldRule, ref message);
        return error is null;
    }

    private static RelayError? Validate(SendRequest? request, RelayOptions options, TopicRoutes topics, Func<string> newId,
        Func<DestinationOptions, string, string?>? protocolHeaderRule, ProtocolFieldRule? protocolFieldRule, ref ValidatedMessage? message)
    {
        if (request is null)
        {
            return RelayError.BadRequest("The request has no body.", "Send a JSON message as docs/API.md describes (POST /messages).");
        }

        var limits = options.Limits;
        string id;
        if (request.Id is null)
        {
            id = newId();
        }
        else if (CheckId(request.Id, limits.MaxIdLength) is { } idError)
        {
            return idError;
        }
        else if (request.Id.StartsWith(ReservedIdPrefix, StringComparison.Ordinal))
        {
            return RelayError.BadRequest($"Message ids starting with '{ReservedIdPrefix}' are reserved.",
                "Relay uses them for its final notifications; choose another id.");
        }
        else
        {
            id = request.Id;
        }

        var hasDestination = !string.IsNullOrEmpty(request.Destination);
        var hasTopic = !string.IsNullOrEmpty(request.Topic);
        if (hasDestination == hasTopic)
        {
            return RelayError.BadRequest(
                hasDestination ? "Give either 'destination' or 'topic', not both." : "Give a 'destination' or a 'topic'.",
                "A message goes to exactly one configured destination or topic.");
        }

        IReadOnlyList<string> destinations;
        CompiledTopic? topic = null;
        if (hasDestination)
        {
            if (!options.Destinations.ContainsKey(request.Destination!))
            {
                return RelayError.BadRequest($"Unknown destination '{Shorten(request.Destination!)}'.",
                    $"Configured destinations: {string.Join(", ", options.Destinations.Keys.Order(StringComparer.Ordinal))}.");
            }

            destinations = [request.Destination!];
        }
        else
        {
            if (!topics.TryGetTopic(request.Topic!, out topic))
            {
                return RelayError.BadRequest($"Unknown topic '{Shorten(request.Topic!)}'.",
                    $"Configured topics: {string.Join(", ", topics.Names.Order(StringComparer.Ordinal))}.");
            }

            // Which subscribers take it is decided below, once the headers and the payload are known good.
            destinations = topic.Subscribers;
        }

        if (request.Contract is not null && !options.Contracts.ContainsKey(request.Contract)
            && request.Contract != RelayOptions.DefaultContractName)
        {
            return RelayError.BadRequest($"Unknown contract '{Shorten(request.Contract)}'.",
                $"Configured contracts: {string.Join(", ", options.Contracts.Keys.Order(StringComparer.Ordinal))}.");
        }

        var notifyNone = request.Notify is not null && (request.Notify.Length == 0 || request.Notify == NotifyNone);
        if (request.Notify is not null && !notifyNone && !options.Destinations.ContainsKey(request.Notify))
        {
            return RelayError.BadRequest($"Unknown notify destination '{Shorten(request.Notify)}'.",
                $"'notify' names a configured destination, or is \"{NotifyNone}\" for no notification.");
        }

        if (request.Payload is not null && request.PayloadBase64 is not null)
        {
            return RelayError.BadRequest("Give either 'payload' or 'payloadBase64', not both.");
        }

        byte[] payload;
        if (request.PayloadBase64 is not null)
        {
            // Refuse before decoding when the encoded form alone is over the limit.
            if ((long)request.PayloadBase64.Length * 3 / 4 > limits.MaxPayloadBytes + 3L)
            {
                return TooLarge(limits);
            }

            try
            {
                payload = Convert.FromBase64String(request.PayloadBase64);
            }
            catch (FormatException)
            {
                return RelayError.BadRequest("'payloadBase64' is not valid base64.", "Encode the payload bytes with standard base64 (RFC 4648).");
            }
        }
        else if (request.Payload is not null)
        {
            if (Encoding.UTF8.GetMaxByteCount(request.Payload.Length) > limits.MaxPayloadBytes
                && Encoding.UTF8.GetByteCount(request.Payload) > limits.MaxPayloadBytes)
            {
                return TooLarge(limits);
            }

            payload = Encoding.UTF8.GetBytes(request.Payload);
        }
        else
        {
            payload = [];
        }

        if (payload.Length == 0)
        {
            return RelayError.BadRequest("The payload is empty.", "Give a non-empty 'payload' (text) or 'payloadBase64' (bytes).");
        }

        if (payload.Length > limits.MaxPayloadBytes)
        {
            return TooLarge(limits);
        }

        var contentType = request.ContentType ?? (request.PayloadBase64 is not null ? "application/octet-stream" : "text/plain; charset=utf-8");
        if (contentType.Length == 0 || contentType.Length > MaxShortFieldLength || HasControlCharacters(contentType)
            || !System.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out _))
        {
            return RelayError.BadRequest("'contentType' is not a valid media type.", "For example \"application/json\".");
        }

        if (CheckHeaders(request.Headers, limits) is { } headerError)
        {
            return headerError;
        }

        if ((CheckShortField("orderingKey", request.OrderingKey) ?? CheckShortField("correlationId", request.CorrelationId)) is { } fieldError)
        {
            return fieldError;
        }

        var headers = request.Headers is null
            ? new SortedDictionary<string, string>(StringComparer.OrdinalIgnoreCase)
            : new SortedDictionary<string, string>(request.Headers, StringComparer.OrdinalIgnoreCase);

        if (topic is { HasFilters: true })
        {
            // Evaluated at acceptance, once: the subscribers whose filter the message does not match get no delivery.
            destinations = topic.Route(new MessageProperties(headers, payload, contentType, request.CorrelationId));
        }

        // Only the subscribers that take the message can refuse one of its headers.
        if (CheckDestinationHeaders(request.Headers, destinations, options, protocolHeaderRule) is { } destinationHeaderError)
        {
            return destinationHeaderError;
        }

        // Protocol fields travel with the content, under names a sender cannot give (X-Relay-...): they are part of
        // the content hash (a repeat with other fields is another message) and reach the adapter at every attempt.
        // Added after the topic's filters ran: a filter sees the sender's headers only.
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (protocolFieldRule is not null)
        {
            var named = destinations.Where(options.Destinations.ContainsKey).Select(d => KeyValuePair.Create(d, options.Destinations[d])).ToList();
            if (protocolFieldRule(request, named, fields) is { } fieldsError)
            {
                return fieldsError;
            }
        }
        else if (request.Ebms is not null)
        {
            return RelayError.BadRequest("'ebms' is given, but no destination of this message speaks ebXML.", "Leave 'ebms' out, or send to an Ebms2 destination.");
        }

        foreach (var (name, value) in fields)
        {
            if (!ProtocolFields.IsReserved(name))
            {
                throw new InvalidOperationException($"A protocol field must be stored under a reserved name ({ProtocolFields.Prefix}...), not '{name}'.");
            }

            headers[name] = value;
        }

        message = new ValidatedMessage
        {
            Id = id,
            Destinations = destinations,
            Destination = hasDestination ? request.Destination : null,
            Topic = hasTopic ? request.Topic : null,
            Payload = payload,
            ContentType = contentType,
            Headers = headers,
            Contract = request.Contract,
            Notify = notifyNone ? null : request.Notify,
            NotifyNone = notifyNone,
            OrderingKey = request.OrderingKey,
            CorrelationId = request.CorrelationId,
            ContentHash = ComputeHash(request, payload, contentType, headers),
        };
        return null;
    }

    /// <summary>Checks a message id given by a user (also for reads and operator actions).</summary>
    public static RelayError? CheckId(string id, int maxLength)
    {
        if (string.IsNullOrWhiteSpace(id))
        {
            return RelayError.BadRequest("The message id is empty.", "Leave 'id' out to have the router make one.");
        }

        if (id.Length > maxLength)
        {
            return RelayError.BadRequest($"The message id is longer than {maxLength} characters.", "Use a shorter idempotency key.");
        }

        if (HasControlCharacters(id))
        {
            return RelayError.BadRequest("The message id contains control characters.", "Use printable characters only.");
        }

        // An id is a segment of a URL path (/messages/{id}): "." and ".." are removed from a path by every client and
        // server (RFC 3986, 5.2.4), even percent-encoded, so no request could ever name them.
        if (id is "." or "..")
        {
            return RelayError.BadRequest($"The message id '{id}' cannot be used.", "'.' and '..' cannot be put in a URL path; choose another id.");
        }

        // A lone surrogate has no UTF-8 form: it could be neither stored as text nor put in a URL.
        if (!IsWellFormedUtf16(id))
        {
            return RelayError.BadRequest("The message id is not valid Unicode text.", "It contains a lone UTF-16 surrogate; send well-formed text.");
        }

        return null;
    }

    private static RelayError? CheckHeaders(Dictionary<string, string>? headers, LimitOptions limits)
    {
        if (headers is null)
        {
            return null;
        }

        if (headers.Count > limits.MaxHeaders)
        {
            return RelayError.BadRequest($"A message may carry at most {limits.MaxHeaders} headers.");
        }

        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in headers)
        {
            if (name.Length == 0 || name.Length > MaxHeaderNameLength || !OptionRules.IsToken(name))
            {
                return RelayError.BadRequest($"'{Shorten(name)}' is not a valid header name.", "Header names are HTTP tokens (letters, digits, '-', ...).");
            }

            if (!seen.Add(name))
            {
                return RelayError.BadRequest($"Header '{name}' is given twice.");
            }

            if (ForbiddenHeaders.Contains(name) || name.StartsWith("X-Relay-", StringComparison.OrdinalIgnoreCase))
            {
                return RelayError.BadRequest($"Header '{name}' cannot be forwarded.",
                    "Host, Content-Length, Content-Type, hop-by-hop headers and the headers Relay sets itself are not accepted; use 'contentType' for the content type.");
            }

            if (value is null || value.Length > MaxHeaderValueLength || HasControlCharacters(value, allowTab: true))
            {
                return RelayError.BadRequest($"The value of header '{name}' is not valid.", "Header values are single-line text of at most 8 KiB.");
            }
        }

        return null;
    }

    /// <summary>A header a destination keeps for itself (<see cref="DestinationHeaders"/>, and its protocol's rule) refuses the whole message.</summary>
    private static RelayError? CheckDestinationHeaders(Dictionary<string, string>? headers, IReadOnlyList<string> destinations,
        RelayOptions options, Func<DestinationOptions, string, string?>? protocolHeaderRule)
    {
        if (headers is null || headers.Count == 0)
        {
            return null;
        }

        foreach (var name in destinations)
        {
            if (!options.Destinations.TryGetValue(name, out var destination))
            {
                continue;
            }

            foreach (var header in headers.Keys)
            {
                if ((DestinationHeaders.Refusal(destination, header) ?? protocolHeaderRule?.Invoke(destination, header)) is { } reason)
                {
                    // The configured value is a secret: the title names the header, never what the destination sends.
                    return RelayError.BadRequest($"Header '{header}' cannot be sent to the destination '{name}': {reason}.",
                        "Leave the header out of 'headers'; the message was refused whole, nothing was stored or sent.");
                }
            }
        }

        return null;
    }

    private static RelayError? CheckShortField(string name, string? value)
    {
        if (value is null)
        {
            return null;
        }

        if (value.Length == 0 || value.Length > MaxShortFieldLength || HasControlCharacters(value))
        {
            return RelayError.BadRequest($"'{name}' must be 1 to {MaxShortFieldLength} printable characters.");
        }

        return null;
    }

    private static RelayError TooLarge(LimitOptions limits) =>
        RelayError.TooLarge($"The payload is larger than {limits.MaxPayloadBytes} bytes.", "Send a smaller payload, or raise Relay:Limits:MaxPayloadBytes.");

    private static bool HasControlCharacters(string value, bool allowTab = false)
    {
        foreach (var c in value)
        {
            if (char.IsControl(c) && !(allowTab && c == '\t'))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsWellFormedUtf16(string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(value[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static string Shorten(string value) => OptionRules.Shorten(value);

    /// <summary>
    /// SHA-256 over the fields that make the content, each length-prefixed (so that no two different field lists hash
    /// alike), as uppercase hex. Stored with every message and compared with a resend's: the bytes hashed must never
    /// change (<c>ContentHashTests</c> pins them). Written through spans: no array per field (issue 14).
    /// </summary>
    internal static string ComputeHash(SendRequest request, byte[] payload, string contentType, SortedDictionary<string, string> headers)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Field(hash, request.Destination);
        Field(hash, request.Topic);
        Length(hash, payload.Length);
        hash.AppendData(payload);
        Field(hash, contentType);
        Field(hash, request.Contract);
        Field(hash, request.Notify);
        Field(hash, request.OrderingKey);
        Field(hash, request.CorrelationId);
        Length(hash, headers.Count);
        if (headers.Count > 0)
        {
            foreach (var (name, value) in headers)
            {
                Field(hash, name.ToLowerInvariant());
                Field(hash, value);
            }
        }

        Span<byte> digest = stackalloc byte[32];
        hash.GetHashAndReset(digest);
        return Convert.ToHexString(digest);
    }

    /// <summary>A length (or -1 for a null field) as <see cref="BitConverter"/> writes it: 4 bytes, the machine's order.</summary>
    private static void Length(IncrementalHash hash, int length)
    {
        Span<byte> bytes = stackalloc byte[sizeof(int)];
        BitConverter.TryWriteBytes(bytes, length);
        hash.AppendData(bytes);
    }

    /// <summary>A text field: its UTF-8 length, then its UTF-8 bytes; null is the length -1 alone.</summary>
    private static void Field(IncrementalHash hash, string? value)
    {
        if (value is null)
        {
            Length(hash, -1);
            return;
        }

        var length = Encoding.UTF8.GetByteCount(value);
        Length(hash, length);
        byte[]? rented = null;
        var bytes = length <= 256 ? stackalloc byte[256] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            Encoding.UTF8.GetBytes(value, bytes);
            hash.AppendData(bytes[..length]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}
