using System.Text.Json;

namespace Relay.Adapters.Ldap;

internal enum LdapOperationKind
{
    Add,
    Modify,
    Delete,
}

internal enum LdapChangeKind
{
    Add,
    Replace,
    Delete,
}

internal sealed record LdapAttribute(string Name, IReadOnlyList<string> Values);

internal sealed record LdapChange(LdapChangeKind Kind, string Attribute, IReadOnlyList<string> Values);

/// <summary>
/// What an LDAP delivery's payload asks for: one JSON object (docs/ADAPTERS.md, "LDAP payload").
/// <code>
/// { "operation": "add",    "dn": "uid=jdoe,ou=people,dc=example,dc=com",
///   "attributes": { "objectClass": ["inetOrgPerson"], "cn": "John Doe", "sn": "Doe" } }
/// { "operation": "modify", "dn": "uid=jdoe,ou=people,dc=example,dc=com",
///   "changes": [ { "op": "replace", "attribute": "mail", "values": ["jdoe@example.com"] },
///                { "op": "delete",  "attribute": "description" } ] }
/// { "operation": "delete", "dn": "uid=jdoe,ou=people,dc=example,dc=com" }
/// </code>
/// A value is a string, or a number or boolean (sent as its text, booleans as LDAP's TRUE / FALSE); one value
/// may stand without its array. Property names and the words of <c>operation</c> and <c>op</c> are compared
/// without regard to case. A problem is named by its place, never by a value: the message goes to the logs.
/// </summary>
internal sealed record LdapOperation(LdapOperationKind Kind, string Dn, IReadOnlyList<LdapAttribute> Attributes, IReadOnlyList<LdapChange> Changes)
{
    public string Name => Kind.ToString().ToLowerInvariant();

    public static bool TryParse(ReadOnlyMemory<byte> payload, out LdapOperation operation, out string problem)
    {
        operation = null!;
        try
        {
            using var document = JsonDocument.Parse(payload, new JsonDocumentOptions { MaxDepth = 8 });
            return TryParse(document.RootElement, out operation, out problem);
        }
        catch (JsonException)
        {
            problem = "the payload is not JSON";
            return false;
        }
    }

    private static bool TryParse(JsonElement root, out LdapOperation operation, out string problem)
    {
        operation = null!;
        if (root.ValueKind != JsonValueKind.Object)
        {
            problem = "the payload is not a JSON object";
            return false;
        }

        string? kindText = null;
        string? dn = null;
        JsonElement? attributes = null;
        JsonElement? changes = null;
        foreach (var property in root.EnumerateObject())
        {
            switch (property.Name.ToLowerInvariant())
            {
                case "operation" when property.Value.ValueKind == JsonValueKind.String:
                    kindText = property.Value.GetString();
                    break;
                case "dn" when property.Value.ValueKind == JsonValueKind.String:
                    dn = property.Value.GetString();
                    break;
                case "attributes":
                    attributes = property.Value;
                    break;
                case "changes":
                    changes = property.Value;
                    break;
                case "operation" or "dn":
                    problem = $"'{property.Name}' must be a string";
                    return false;
                default:
                    problem = "unknown property (known: operation, dn, attributes, changes)";
                    return false;
            }
        }

        LdapOperationKind kind;
        switch (kindText?.ToLowerInvariant())
        {
            case "add": kind = LdapOperationKind.Add; break;
            case "modify": kind = LdapOperationKind.Modify; break;
            case "delete": kind = LdapOperationKind.Delete; break;
            default:
                problem = "'operation' must be add, modify or delete";
                return false;
        }

        if (string.IsNullOrWhiteSpace(dn))
        {
            problem = "'dn' is missing or empty";
            return false;
        }

        var parsedAttributes = new List<LdapAttribute>();
        var parsedChanges = new List<LdapChange>();
        switch (kind)
        {
            case LdapOperationKind.Add:
                if (changes is not null)
                {
                    problem = "an add has 'attributes', not 'changes'";
                    return false;
                }

                if (!TryParseAttributes(attributes, parsedAttributes, out problem))
                {
                    return false;
                }

                break;
            case LdapOperationKind.Modify:
                if (attributes is not null)
                {
                    problem = "a modify has 'changes', not 'attributes'";
                    return false;
                }

                if (!TryParseChanges(changes, parsedChanges, out problem))
                {
                    return false;
                }

                break;
            default:
                if (attributes is not null || changes is not null)
                {
                    problem = "a delete has only 'dn'";
                    return false;
                }

                break;
        }

        operation = new LdapOperation(kind, dn, parsedAttributes, parsedChanges);
        problem = "";
        return true;
    }

    private static bool TryParseAttributes(JsonElement? attributes, List<LdapAttribute> result, out string problem)
    {
        if (attributes is not { ValueKind: JsonValueKind.Object } element)
        {
            problem = "an add needs 'attributes', an object of attribute names and values";
            return false;
        }

        var index = 0;
        foreach (var attribute in element.EnumerateObject())
        {
            if (!TryParseValues(attribute.Value, out var values) || values.Count == 0)
            {
                problem = $"attribute #{index} must have a value: a string, a number, or an array of them";
                return false;
            }

            result.Add(new LdapAttribute(attribute.Name, values));
            index++;
        }

        if (result.Count == 0)
        {
            problem = "'attributes' is empty";
            return false;
        }

        problem = "";
        return true;
    }

    private static bool TryParseChanges(JsonElement? changes, List<LdapChange> result, out string problem)
    {
        if (changes is not { ValueKind: JsonValueKind.Array } element || element.GetArrayLength() == 0)
        {
            problem = "a modify needs 'changes', a non-empty array of { op, attribute, values }";
            return false;
        }

        var index = 0;
        foreach (var change in element.EnumerateArray())
        {
            var where = $"changes[{index}]";
            if (change.ValueKind != JsonValueKind.Object)
            {
                problem = $"{where} is not an object";
                return false;
            }

            string? op = null;
            string? attribute = null;
            IReadOnlyList<string>? values = null;
            foreach (var property in change.EnumerateObject())
            {
                switch (property.Name.ToLowerInvariant())
                {
                    case "op" when property.Value.ValueKind == JsonValueKind.String:
                        op = property.Value.GetString();
                        break;
                    case "attribute" when property.Value.ValueKind == JsonValueKind.String:
                        attribute = property.Value.GetString();
                        break;
                    case "values":
                        if (!TryParseValues(property.Value, out var parsed))
                        {
                            problem = $"{where}.values must be a string, a number, or an array of them";
                            return false;
                        }

                        values = parsed;
                        break;
                    default:
                        problem = $"{where} has an unknown or mistyped property (known: op, attribute, values)";
                        return false;
                }
            }

            LdapChangeKind kind;
            switch (op?.ToLowerInvariant())
            {
                case "add": kind = LdapChangeKind.Add; break;
                case "replace": kind = LdapChangeKind.Replace; break;
                case "delete": kind = LdapChangeKind.Delete; break;
                default:
                    problem = $"{where}.op must be add, replace or delete";
                    return false;
            }

            if (string.IsNullOrWhiteSpace(attribute))
            {
                problem = $"{where}.attribute is missing or empty";
                return false;
            }

            // add needs values; replace with none removes the attribute; delete with none removes every value.
            if (kind == LdapChangeKind.Add && (values is null || values.Count == 0))
            {
                problem = $"{where}: an add of values needs 'values'";
                return false;
            }

            result.Add(new LdapChange(kind, attribute, values ?? []));
            index++;
        }

        problem = "";
        return true;
    }

    private static bool TryParseValues(JsonElement element, out IReadOnlyList<string> values)
    {
        if (element.ValueKind == JsonValueKind.Array)
        {
            var list = new List<string>();
            foreach (var item in element.EnumerateArray())
            {
                if (ValueText(item) is not { } text)
                {
                    values = [];
                    return false;
                }

                list.Add(text);
            }

            values = list;
            return true;
        }

        if (ValueText(element) is { } single)
        {
            values = [single];
            return true;
        }

        values = [];
        return false;
    }

    private static string? ValueText(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => element.GetString(),
        JsonValueKind.Number => element.GetRawText(),
        JsonValueKind.True => "TRUE",
        JsonValueKind.False => "FALSE",
        _ => null,
    };
}
