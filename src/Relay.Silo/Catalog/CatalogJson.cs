using System.Collections;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Relay.Adapters;
using Relay.Core.Catalog;
using Relay.Core.Options;

namespace Relay.Silo.Catalog;

/// <summary>
/// A catalog entry's JSON: the shape of its configuration entry (<c>Relay:Destinations:{name}</c> ...), read from a
/// configuration section (to seed the catalog, or to show configuration's entries), turned back into configuration to be
/// bound exactly as at start-up, and shown with its secrets redacted.
/// </summary>
internal static class CatalogJson
{
    private static readonly JsonSerializerOptions Compact = new() { WriteIndented = false };

    /// <summary>A configuration section as JSON: an object, an array when its keys are 0, 1, 2..., a string for a value.</summary>
    public static JsonNode? FromSection(IConfigurationSection section)
    {
        var children = section.GetChildren().ToList();
        if (children.Count == 0)
        {
            return section.Value is null ? null : JsonValue.Create(section.Value);
        }

        if (children.All(c => int.TryParse(c.Key, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _)))
        {
            var array = new JsonArray();
            foreach (var child in children.OrderBy(c => int.Parse(c.Key, System.Globalization.CultureInfo.InvariantCulture)))
            {
                array.Add(FromSection(child));
            }

            return array;
        }

        var result = new JsonObject();
        foreach (var child in children)
        {
            result[child.Key] = FromSection(child);
        }

        return result;
    }

    public static string Text(JsonNode node) => node.ToJsonString(Compact);

    /// <summary>
    /// Configuration holding <paramref name="entries"/> where configuration would hold them
    /// (<c>Relay:Destinations:{name}</c> ...), so that they bind, and their unknown keys are found, as at start-up.
    /// </summary>
    /// <exception cref="FormatException">The JSON of an entry is not something configuration can hold.</exception>
    public static IConfigurationRoot ToConfiguration(IEnumerable<(CatalogKind Kind, string Name, string Settings)> entries)
    {
        var root = new JsonObject();
        var relay = new JsonObject();
        root[RelayOptions.SectionName] = relay;
        foreach (var (kind, name, settings) in entries)
        {
            if (relay[kind.Section()] is not JsonObject section)
            {
                section = new JsonObject();
                relay[kind.Section()] = section;
            }

            section[name] = JsonNode.Parse(settings);
        }

        var bytes = Encoding.UTF8.GetBytes(root.ToJsonString(Compact));
        return new ConfigurationBuilder().AddJsonStream(new MemoryStream(bytes)).Build();
    }

    /// <summary>
    /// The entry with every secret (a setting marked <see cref="SecretAttribute"/>, of the shared destination settings or
    /// of any protocol's, at any depth: <c>Auth:ClientSecret</c>, <c>ClientCertificate:Password</c>) shown as
    /// <see cref="SecretAttribute.Redacted"/>.
    /// </summary>
    public static JsonNode? Redact(CatalogKind kind, JsonNode? node, IEnumerable<DestinationProtocol> protocols)
    {
        if (node is not JsonObject entry || kind != CatalogKind.Destination)
        {
            return node?.DeepClone();
        }

        var copy = (JsonObject)entry.DeepClone();
        RedactIn(copy, SecretsOf(protocols));
        return copy;
    }

    private static void RedactIn(JsonObject node, SecretTree secrets)
    {
        foreach (var (name, value) in node.ToList())
        {
            if (value is null || !secrets.TryGetValue(name, out var secret))
            {
                continue;
            }

            if (secret.Children is { } children)
            {
                if (value is JsonObject inner)
                {
                    RedactIn(inner, children);
                }
            }
            else if (secret.IsMap && value is JsonObject map)
            {
                foreach (var (key, _) in map.ToList())
                {
                    map[key] = SecretAttribute.Redacted;
                }
            }
            else
            {
                node[name] = SecretAttribute.Redacted;
            }
        }
    }

    /// <summary>
    /// A PUT body that carries a secret as <see cref="SecretAttribute.Redacted"/> (as a GET showed it) keeps the stored
    /// value of that secret: an operator edits an entry as shown without retyping its secrets.
    /// </summary>
    public static void KeepRedactedSecrets(JsonObject body, JsonNode? stored, IEnumerable<DestinationProtocol> protocols) =>
        KeepIn(body, stored as JsonObject, SecretsOf(protocols));

    private static void KeepIn(JsonObject body, JsonObject? current, SecretTree secrets)
    {
        foreach (var (name, value) in body.ToList())
        {
            if (value is null || !secrets.TryGetValue(name, out var secret))
            {
                continue;
            }

            var before = current is null ? null : Find(current, name);
            if (secret.Children is { } children)
            {
                if (value is JsonObject inner)
                {
                    KeepIn(inner, before as JsonObject, children);
                }
            }
            else if (secret.IsMap && value is JsonObject map)
            {
                var storedMap = before as JsonObject;
                foreach (var (key, item) in map.ToList())
                {
                    if (IsRedacted(item) && storedMap is not null && Find(storedMap, key) is { } kept)
                    {
                        map[key] = kept.DeepClone();
                    }
                }
            }
            else if (IsRedacted(value) && before is not null)
            {
                body[name] = before.DeepClone();
            }
        }
    }

    private static bool IsRedacted(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<string>(out var text) && text == SecretAttribute.Redacted;

    private static JsonNode? Find(JsonObject node, string name) =>
        node.FirstOrDefault(p => string.Equals(p.Key, name, StringComparison.OrdinalIgnoreCase)).Value;

    /// <summary>A secret setting: a value, a map whose every value is secret, or a section holding secrets deeper down.</summary>
    private sealed record Secret(bool IsMap, SecretTree? Children);

    private sealed class SecretTree() : Dictionary<string, Secret>(StringComparer.OrdinalIgnoreCase);

    /// <summary>The secret settings of a destination of any protocol (names case-insensitive), as a tree.</summary>
    private static SecretTree SecretsOf(IEnumerable<DestinationProtocol> protocols)
    {
        var tree = new SecretTree();
        foreach (var type in protocols.Select(p => p.OptionsType).Prepend(typeof(DestinationOptions)))
        {
            AddSecrets(tree, type, depth: 0);
        }

        return tree;
    }

    private static void AddSecrets(SecretTree tree, Type type, int depth)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var propertyType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if (property.GetCustomAttribute<SecretAttribute>(inherit: true) is not null)
            {
                tree[property.Name] = new Secret(typeof(IDictionary).IsAssignableFrom(propertyType), null);
            }
            else if (depth < 4 && propertyType.IsClass && propertyType != typeof(string) && !typeof(IEnumerable).IsAssignableFrom(propertyType))
            {
                // A section of settings (Auth, ClientCertificate): its secrets are redacted where they sit.
                var children = tree.TryGetValue(property.Name, out var known) && known.Children is { } merged ? merged : new SecretTree();
                AddSecrets(children, propertyType, depth + 1);
                if (children.Count > 0 && !(known is { Children: null }))
                {
                    tree[property.Name] = new Secret(false, children);
                }
            }
        }
    }
}
