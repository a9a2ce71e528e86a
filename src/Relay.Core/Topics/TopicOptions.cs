using System.Text.Json;
using System.Text.Json.Serialization;

namespace Relay.Core.Topics;

/// <summary>
/// A topic: its subscriptions, each a destination with an optional filter. Configured as
/// <c>{"Subscriptions": [{"Destination": "a", "Filter": "region = 'eu'"}]}</c>, or, as before filters existed, as a
/// plain list of destination names (<c>["a", "b"]</c>: every subscriber takes every message). The same shape is the
/// body of a topic in the catalog's API (read and written by <see cref="TopicOptionsJsonConverter"/>).
/// </summary>
[JsonConverter(typeof(TopicOptionsJsonConverter))]
public sealed class TopicOptions
{
    private bool _plainList;

    public List<SubscriptionOptions> Subscriptions { get; set; } = [];

    /// <summary>A topic given as a plain list of destination names (no filters): the shape of configuration before filters.</summary>
    public static TopicOptions Of(params IEnumerable<string> destinations) => new()
    {
        _plainList = true,
        Subscriptions = destinations.Select(d => new SubscriptionOptions { Destination = d }).ToList(),
    };

    /// <summary>
    /// Whether the topic was given as a plain list of names. Not a setting (a method, not a property), so neither the
    /// configuration binder nor the unknown-key check sees it; it decides how a subscription's key is named.
    /// </summary>
    public bool IsPlainList() => _plainList;

    /// <summary>
    /// The configuration key of a subscription's destination below the topic's key: <c>0</c> in a plain list,
    /// <c>Subscriptions:0:Destination</c> otherwise.
    /// </summary>
    public string DestinationKey(int index) => _plainList ? $"{index}" : $"Subscriptions:{index}:Destination";

    /// <summary>The configuration key of a subscription's filter below the topic's key.</summary>
    public static string FilterKey(int index) => $"Subscriptions:{index}:Filter";
}

/// <summary>One destination subscribed to a topic, with the filter a message must match for it to take the message.</summary>
public sealed class SubscriptionOptions
{
    /// <summary>A configured destination.</summary>
    public string Destination { get; set; } = "";

    /// <summary>
    /// A filter expression (docs/TOPICS.md): the subscriber takes a message only when it matches. Absent or empty: it
    /// takes every message of the topic.
    /// </summary>
    public string? Filter { get; set; }
}

/// <summary>
/// Reads a topic as JSON in either shape (an array of destination names, or an object with <c>subscriptions</c>; names
/// case-insensitive), and writes it back in the shape it was given.
/// </summary>
public sealed class TopicOptionsJsonConverter : JsonConverter<TopicOptions>
{
    public override TopicOptions Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.StartArray)
        {
            var names = new List<string>();
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                names.Add(reader.TokenType == JsonTokenType.String
                    ? reader.GetString()!
                    : throw new JsonException("A topic given as a list names its subscribers: a list of destination names (strings)."));
            }

            return TopicOptions.Of(names);
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("A topic is a list of destination names, or {\"subscriptions\": [{\"destination\": ..., \"filter\": ...}]}.");
        }

        var topic = new TopicOptions();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var property = reader.GetString();
            reader.Read();
            if (string.Equals(property, "subscriptions", StringComparison.OrdinalIgnoreCase))
            {
                topic.Subscriptions = JsonSerializer.Deserialize<List<SubscriptionOptions>>(ref reader, Case(options)) ?? [];
            }
            else
            {
                throw new JsonException($"A topic has no field '{property}'; it has 'subscriptions'.");
            }
        }

        return topic;
    }

    public override void Write(Utf8JsonWriter writer, TopicOptions value, JsonSerializerOptions options)
    {
        if (value.IsPlainList())
        {
            writer.WriteStartArray();
            foreach (var subscription in value.Subscriptions)
            {
                writer.WriteStringValue(subscription.Destination);
            }

            writer.WriteEndArray();
            return;
        }

        writer.WriteStartObject();
        writer.WriteStartArray("subscriptions");
        foreach (var subscription in value.Subscriptions)
        {
            writer.WriteStartObject();
            writer.WriteString("destination", subscription.Destination);
            if (subscription.Filter is not null)
            {
                writer.WriteString("filter", subscription.Filter);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static JsonSerializerOptions Case(JsonSerializerOptions options) =>
        options.PropertyNameCaseInsensitive ? options : CaseInsensitive;

    private static readonly JsonSerializerOptions CaseInsensitive = new() { PropertyNameCaseInsensitive = true };
}
