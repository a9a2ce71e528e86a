using System.Text.Json;
using Relay.Core.Topics.Filters;

namespace Relay.Core.Topics;

/// <summary>
/// What the filters of a topic read of one message: a name is its header of that name (case-insensitive), else the
/// top-level field of that name of its JSON payload (case-sensitive, as JSON is), else <c>correlationId</c> or
/// <c>contentType</c> (case-insensitive). One instance serves every filter of the topic for that message: the payload
/// is read at most once, and only when a filter looks up a name that no header has.
/// </summary>
public sealed class MessageProperties
{
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 256, CommentHandling = JsonCommentHandling.Skip };

    private readonly IReadOnlyDictionary<string, string> _headers;
    private readonly ReadOnlyMemory<byte> _payload;
    private readonly string? _contentType;
    private readonly string? _correlationId;
    private Dictionary<string, FilterValue>? _fields;
    // Each name is resolved once per message: the filters of a topic mostly read the same few names.
    private Dictionary<string, FilterValue>? _resolved;

    /// <param name="headers">The message's headers; looked up without regard to case.</param>
    public MessageProperties(IReadOnlyDictionary<string, string> headers, ReadOnlyMemory<byte> payload, string? contentType, string? correlationId)
    {
        ArgumentNullException.ThrowIfNull(headers);
        _headers = IsCaseInsensitive(headers) ? headers : new Dictionary<string, string>(headers, StringComparer.OrdinalIgnoreCase);
        _payload = payload;
        _contentType = contentType;
        _correlationId = correlationId;
    }

    /// <summary>How many times the payload was read as JSON: 0 or 1.</summary>
    public int PayloadReads { get; private set; }

    internal FilterValue Resolve(string name)
    {
        _resolved ??= new Dictionary<string, FilterValue>(StringComparer.Ordinal);
        if (!_resolved.TryGetValue(name, out var value))
        {
            value = ResolveOnce(name);
            _resolved[name] = value;
        }

        return value;
    }

    private FilterValue ResolveOnce(string name)
    {
        if (_headers.TryGetValue(name, out var header))
        {
            return FilterValue.Untyped(header);
        }

        _fields ??= ReadFields();
        if (_fields.TryGetValue(name, out var field))
        {
            return field;
        }

        if (string.Equals(name, "correlationId", StringComparison.OrdinalIgnoreCase))
        {
            return _correlationId is null ? FilterValue.Missing : FilterValue.Untyped(_correlationId);
        }

        if (string.Equals(name, "contentType", StringComparison.OrdinalIgnoreCase))
        {
            return _contentType is null ? FilterValue.Missing : FilterValue.Untyped(_contentType);
        }

        return FilterValue.Missing;
    }

    /// <summary>
    /// The payload's top-level fields, when it is a JSON object (whatever its declared content type: a sender who
    /// forgot <c>contentType</c> still gets its fields read). A payload that is not JSON has none. Nested objects and
    /// arrays are skipped, not copied: one pass of the reader over the payload.
    /// </summary>
    private Dictionary<string, FilterValue> ReadFields()
    {
        PayloadReads++;
        var fields = new Dictionary<string, FilterValue>(StringComparer.Ordinal);
        var bytes = _payload.Span;
        if (bytes.StartsWith("\uFEFF"u8))
        {
            bytes = bytes[3..];
        }

        try
        {
            var reader = new Utf8JsonReader(bytes, ReaderOptions);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return fields;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString()!;
                reader.Read();
                FilterValue value;
                switch (reader.TokenType)
                {
                    case JsonTokenType.String:
                        value = FilterValue.Of(reader.GetString()!);
                        break;
                    case JsonTokenType.Number:
                        value = reader.TryGetDouble(out var number) && double.IsFinite(number) ? FilterValue.Of(number) : FilterValue.Other;
                        break;
                    case JsonTokenType.True:
                    case JsonTokenType.False:
                        value = FilterValue.Of(reader.TokenType == JsonTokenType.True);
                        break;
                    case JsonTokenType.Null:
                        value = FilterValue.Null;
                        break;
                    default:
                        reader.Skip();
                        value = FilterValue.Other;
                        break;
                }

                // The first of duplicate names counts, as most JSON readers keep it.
                fields.TryAdd(name, value);
            }

            // Only a whole, well-formed object has fields: a payload cut short or broken reads as not JSON.
            return reader.TokenType == JsonTokenType.EndObject && !reader.Read() ? fields : new(StringComparer.Ordinal);
        }
        catch (JsonException)
        {
            return new(StringComparer.Ordinal);
        }
    }

    private static bool IsCaseInsensitive(IReadOnlyDictionary<string, string> headers) => headers switch
    {
        Dictionary<string, string> d => ReferenceEquals(d.Comparer, StringComparer.OrdinalIgnoreCase),
        SortedDictionary<string, string> s => ReferenceEquals(s.Comparer, StringComparer.OrdinalIgnoreCase),
        _ => false,
    };
}
