using System.Globalization;
using System.Security;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Relay.Fuzz;

/// <summary>
/// Makes request <c>i</c> of a run from (seed, i) alone: valid requests built from the contract (docs/API.md,
/// docs/SOAP.md), then mutated: wrong types, sizes over each limit, control characters and lone surrogates, bad UTF-8,
/// deep nesting, duplicate keys, flipped and cut bytes, wrong media types and keys, giant headers, XML entities.
/// </summary>
internal sealed class CaseGenerator(FuzzOptions options)
{
    private const string SoapAction = "\"urn:relay:messaging:v1/IMessagingService/Send\"";
    private const string SoapNs = "http://schemas.xmlsoap.org/soap/envelope/";
    private const string ArraysNs = "http://schemas.microsoft.com/2003/10/Serialization/Arrays";

    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly string[] Fields = ["id", "destination", "topic", "payload", "payloadBase64", "contentType", "headers", "contract", "notify", "orderingKey", "correlationId"];
    private static readonly string[] ReservedHeaders = ["Host", "Content-Length", "Content-Type", "Transfer-Encoding", "Connection", "Idempotency-Key", "traceparent", "X-Relay-Attempt", "Upgrade", "Expect", "TE"];
    private static readonly string[] Weird = ["\u0000", "\u0001", "\u001f", "\u007f", "\u0085", "\u2028", "\u202e", "\ufeff", "\ud800", "\udfff", "\uffff", "\r\n", "\t", "%00", "%2F", "../", "/", "\\", "~", "<script>", "'\"", "${jndi:x}", "\u00e9\u4e2d\U0001F600"];
    private static readonly byte[][] BadUtf8 = [[0xC3, 0x28], [0xA0, 0xA1], [0xE2, 0x28, 0xA1], [0xF0, 0x28, 0x8C, 0x28], [0xFF], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80]];
    private static readonly string[] ContentTypes = ["text/plain", "application/xml", "", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=latin1", "application/json; charset=utf-16", "application/jsonx", "APPLICATION/JSON", "application/problem+json", "application/json;;;", "*/*"];

    public string MessageId(long index) => $"fz{options.Seed}-{index}";

    public string DeadId(int k) => $"fzdead{options.Seed}-{k}";

    public FuzzCase Make(long index)
    {
        var random = new Random(HashCode.Combine(options.Seed, index));
        var roll = random.Next(100);
        return roll switch
        {
            < 68 => Json(random, index),
            < 88 => Soap(random, index),
            _ => Portal(random, index),
        };
    }

    // ----- POST /messages -----

    private FuzzCase Json(Random random, long index)
    {
        var id = MessageId(index);
        var message = ValidMessage(random, id);
        var roll = random.Next(1000);
        if (roll < 1)
        {
            return JsonCase("json.slow-body", Bytes(message), id, mustBeAccepted: true) with { SlowBody = true };
        }

        if (roll < 150)
        {
            return JsonCase("json.valid", Bytes(message), id, mustBeAccepted: true);
        }

        if (roll < 270)
        {
            var field = Pick(random, Fields);
            message[field] = WrongType(random, field);
            return JsonCase($"json.wrong-type.{field}", Bytes(message), field == "id" ? null : id);
        }

        if (roll < 350)
        {
            var field = Oversize(random, message);
            return JsonCase($"json.oversize.{field}", Bytes(message), field == "id" ? null : id);
        }

        if (roll < 430)
        {
            var field = Pick(random, ["id", "destination", "correlationId", "orderingKey", "contentType", "header-name", "header-value", "contract", "notify"]);
            var weird = Pick(random, Weird);
            switch (field)
            {
                case "header-name":
                    message["headers"] = new JsonObject { ["X-A" + weird] = "v" };
                    break;
                case "header-value":
                    message["headers"] = new JsonObject { ["X-A"] = "v" + weird + "w" };
                    break;
                default:
                    message[field] = Around(random, weird);
                    break;
            }

            return JsonCase($"json.weird-chars.{field}", Bytes(message), field == "id" ? null : id);
        }

        if (roll < 490)
        {
            // Invalid UTF-8 spliced into a string value: into the payload, or into the id.
            var target = random.Next(2) == 0 ? "payload" : "id";
            message[target] = "@@SPLICE@@";
            var text = message.ToJsonString(Relaxed);
            var at = text.IndexOf("@@SPLICE@@", StringComparison.Ordinal);
            var body = Encoding.UTF8.GetBytes(text[..at]).Concat(Pick(random, BadUtf8)).Concat(Encoding.UTF8.GetBytes(text[(at + 10)..])).ToArray();
            return JsonCase($"json.bad-utf8.{target}", body, target == "id" ? null : id);
        }

        if (roll < 530)
        {
            var depth = Pick(random, [64, 65, 1_000, 10_000, 100_000]);
            var open = random.Next(2) == 0 ? "[" : "{\"a\":";
            var close = open == "[" ? "]" : "}";
            var nested = string.Concat(Enumerable.Repeat(open, depth)) + "1" + string.Concat(Enumerable.Repeat(close, depth));
            var whole = random.Next(3) == 0;
            var body = whole ? nested : message.ToJsonString(Relaxed)[..^1] + ",\"extra\":" + nested + "}";
            return JsonCase($"json.deep.{(whole ? "whole" : "field")}.{depth}", Encoding.UTF8.GetBytes(body), whole ? null : id);
        }

        if (roll < 570)
        {
            // The same field twice: the second with another value.
            var field = Pick(random, ["id", "destination", "payload", "contentType"]);
            var text = message.ToJsonString(Relaxed);
            var body = text[..^1] + $",\"{field}\":\"other\"}}";
            return JsonCase($"json.duplicate-key.{field}", Encoding.UTF8.GetBytes(body), null);
        }

        if (roll < 680)
        {
            var (kind, changed) = Semantic(random, message, id);
            return JsonCase($"json.semantic.{kind}", Bytes(message), changed ? null : id);
        }

        if (roll < 830)
        {
            var body = Mutate(random, Bytes(message));
            return JsonCase("json.byte-mutation", body, null);
        }

        if (roll < 870)
        {
            var body = Bytes(message);
            return JsonCase("json.truncated", body[..random.Next(body.Length)], null);
        }

        if (roll < 910)
        {
            var type = Pick(random, ContentTypes);
            return JsonCase($"json.content-type.{type}", Bytes(message), id) with { ContentType = type.Length == 0 ? null : type };
        }

        if (roll < 950)
        {
            var credentials = random.Next(2) == 0 ? Credentials.None : Credentials.Wrong;
            return JsonCase($"json.credentials.{credentials}", Bytes(message), id) with { Credentials = credentials };
        }

        if (roll < 970)
        {
            var many = random.Next(2) == 0;
            var headers = many
                ? Enumerable.Range(0, 300).Select(i => KeyValuePair.Create($"X-Fuzz-{i}", new string('h', 200))).ToArray()
                : [KeyValuePair.Create("X-Fuzz", new string('h', Pick(random, [16_000, 40_000, 100_000])))];
            return JsonCase($"json.giant-http-headers.{(many ? "many" : "one")}", Bytes(message), id) with { Headers = headers };
        }

        if (roll < 990)
        {
            return JsonCase("json.random-value", Encoding.UTF8.GetBytes(RandomJson(random, 0)?.ToJsonString() ?? "null"), null);
        }

        var garbage = new byte[random.Next(1, 4096)];
        random.NextBytes(garbage);
        return JsonCase("json.garbage", garbage, null);
    }

    private FuzzCase JsonCase(string kind, byte[] body, string? trackedId, bool mustBeAccepted = false) => new()
    {
        Door = Door.Json,
        Kind = kind,
        Path = "messages",
        Body = body,
        ContentType = "application/json",
        TrackedId = trackedId,
        MustBeAccepted = mustBeAccepted,
    };

    private JsonObject ValidMessage(Random random, string id)
    {
        var message = new JsonObject { ["id"] = id, ["destination"] = options.Destination };
        if (random.Next(4) == 0)
        {
            var bytes = new byte[random.Next(1, 2048)];
            random.NextBytes(bytes);
            message["payloadBase64"] = Convert.ToBase64String(bytes);
        }
        else
        {
            message["payload"] = Pick(random, ["{\"amount\": 200}", "<a>b</a>", "x", "\u00e9\u4e2d\U0001F600 text", new string('p', random.Next(1, 20_000))]);
        }

        if (random.Next(3) == 0)
        {
            message["contentType"] = Pick(random, ["application/json", "text/xml; charset=utf-8", "application/octet-stream"]);
        }

        if (random.Next(3) == 0)
        {
            var headers = new JsonObject();
            for (var i = random.Next(1, 6); i > 0; i--)
            {
                headers[$"X-Fuzz-{i}"] = Pick(random, ["v", "a b c", "\u00e9t\u00e9", new string('v', random.Next(1, 2000))]);
            }

            message["headers"] = headers;
        }

        if (random.Next(4) == 0)
        {
            message["correlationId"] = $"corr-{random.Next()}";
        }

        if (random.Next(20) == 0)
        {
            message["orderingKey"] = $"key-{random.Next(50)}";
        }

        if (random.Next(10) == 0)
        {
            message["notify"] = "none";
        }

        return message;
    }

    private static JsonNode? WrongType(Random random, string field) => random.Next(7) switch
    {
        0 => JsonValue.Create(random.Next()),
        1 => JsonValue.Create(random.Next(2) == 0),
        2 => new JsonArray("a", 1, null),
        3 => new JsonObject { ["a"] = "b" },
        4 => null,
        5 => JsonValue.Create(1e308),
        _ => field == "headers" ? new JsonObject { ["X-A"] = 1, ["X-B"] = new JsonArray() } : JsonValue.Create(-0.0),
    };

    /// <summary>One field over its limit (docs/API.md): returns the field's name.</summary>
    private static string Oversize(Random random, JsonObject message)
    {
        switch (random.Next(8))
        {
            case 0:
                message["id"] = new string('i', Pick(random, [201, 1_000, 70_000]));
                return "id";
            case 1:
                message.Remove("payloadBase64");
                message["payload"] = new string('p', 1024 * 1024 + random.Next(1, 4096));
                return "payload";
            case 2:
                message["contentType"] = "text/" + new string('c', 300);
                return "contentType";
            case 3:
                message["headers"] = new JsonObject { ["X-Big"] = new string('v', 8 * 1024 + 1) };
                return "headers.value";
            case 4:
                var many = new JsonObject();
                for (var i = 0; i < 65 + random.Next(200); i++)
                {
                    many[$"X-H{i}"] = "v";
                }

                message["headers"] = many;
                return "headers.count";
            case 5:
                message["headers"] = new JsonObject { [new string('N', 257)] = "v" };
                return "headers.name";
            case 6:
                message["correlationId"] = new string('c', 257);
                return "correlationId";
            default:
                message["orderingKey"] = new string('k', 257);
                return "orderingKey";
        }
    }

    /// <summary>Well-formed JSON that breaks a rule of the contract; changed: whether the id was touched.</summary>
    private (string Kind, bool IdChanged) Semantic(Random random, JsonObject message, string id)
    {
        switch (random.Next(14))
        {
            case 0:
                message["destination"] = "no-such-destination";
                return ("unknown-destination", false);
            case 1:
                message["topic"] = "no-such-topic";
                return ("destination-and-topic", false);
            case 2:
                message.Remove("destination");
                return ("no-destination", false);
            case 3:
                message.Remove("payload");
                message.Remove("payloadBase64");
                return ("no-payload", false);
            case 4:
                message.Remove("payloadBase64");
                message["payload"] = "";
                return ("empty-payload", false);
            case 5:
                message.Remove("payload");
                message["payloadBase64"] = "not base64!";
                return ("bad-base64", false);
            case 6:
                message["headers"] = new JsonObject { [Pick(random, ReservedHeaders)] = "v" };
                return ("reserved-header", false);
            case 7:
                message["id"] = Pick(random, ["~" + id, ".", "..", " ", "\t", ""]);
                return ("reserved-id", true);
            case 8:
                message["contract"] = "no-such-contract";
                return ("unknown-contract", false);
            case 9:
                message["notify"] = "no-such-destination";
                return ("unknown-notify", false);
            case 10:
                message["contentType"] = Pick(random, ["not a media type", "text/", "/x", "text/plain; charset"]);
                return ("bad-content-type", false);
            case 11:
                message["headers"] = new JsonObject { ["X-A"] = "v", ["x-a"] = "w" };
                return ("headers-twice", false);
            case 12:
                message["orderingKey"] = "";
                return ("empty-ordering-key", false);
            default:
                message["destination"] = options.Destination.ToUpperInvariant() + "\u0000";
                return ("destination-nul", false);
        }
    }

    private static JsonNode? RandomJson(Random random, int depth) => (depth > 4 ? random.Next(4) : random.Next(7)) switch
    {
        0 => JsonValue.Create(random.NextDouble() * Math.Pow(10, random.Next(-300, 300))),
        1 => JsonValue.Create(new string((char)random.Next(32, 0xD7FF), random.Next(0, 50))),
        2 => null,
        3 => JsonValue.Create(random.Next(2) == 0),
        4 => new JsonArray(Enumerable.Range(0, random.Next(5)).Select(_ => RandomJson(random, depth + 1)).ToArray()),
        _ => new JsonObject(Enumerable.Range(0, random.Next(6)).Select(i =>
            KeyValuePair.Create(i % 2 == 0 ? Pick(random, Fields) : $"k{i}", RandomJson(random, depth + 1)))
            .DistinctBy(p => p.Key)),
    };

    // ----- the SOAP front door -----

    private FuzzCase Soap(Random random, long index)
    {
        var id = MessageId(index);
        var fields = new List<(string Name, string Xml)>
        {
            ("Id", Escape(id)),
            ("Destination", Escape(options.Destination)),
            ("Payload", Escape(Pick(random, ["<order amount=\"200\"/>", "text \u00e9", new string('p', random.Next(1, 10_000))]))),
        };
        if (random.Next(3) == 0)
        {
            fields.Add(("ContentType", "text/xml"));
        }

        if (random.Next(3) == 0)
        {
            fields.Add(("Headers", $"<a:KeyValueOfstringstring xmlns:a=\"{ArraysNs}\"><a:Key>X-Fuzz</a:Key><a:Value>v</a:Value></a:KeyValueOfstringstring>"));
        }

        var roll = random.Next(1000);
        if (roll < 200)
        {
            return SoapCase("soap.valid", Encoding.UTF8.GetBytes(Envelope(fields)), id, mustBeAccepted: true);
        }

        if (roll < 300)
        {
            // An entity that names a local file or this fuzzer's own destination: never resolved.
            var target = random.Next(2) == 0 ? "file:///etc/passwd" : $"http://127.0.0.1:{options.SinkPort}/xxe/{index}";
            var doctype = $"<?xml version=\"1.0\"?><!DOCTYPE s:Envelope [<!ENTITY x SYSTEM \"{target}\">]>";
            fields[2] = ("Payload", "&x;");
            return SoapCase("soap.xxe", Encoding.UTF8.GetBytes(doctype + Envelope(fields)), null) with { MustNotEcho = "root:x:0:0" };
        }

        if (roll < 340)
        {
            var laughs = "<?xml version=\"1.0\"?><!DOCTYPE s:Envelope [<!ENTITY a \"aaaaaaaaaa\">" +
                string.Concat(Enumerable.Range(1, 9).Select(i => $"<!ENTITY {(char)('a' + i)} \"{string.Concat(Enumerable.Repeat($"&{(char)('a' + i - 1)};", 10))}\">")) + "]>";
            fields[2] = ("Payload", "&j;");
            return SoapCase("soap.billion-laughs", Encoding.UTF8.GetBytes(laughs + Envelope(fields)), null);
        }

        if (roll < 440)
        {
            var field = random.Next(fields.Count);
            var weird = Pick(random, ["&#1;", "&#xFFFE;", "&#xD800;", "\u0001", "&#0;", "&amp;#1;", "<![CDATA[x]]>", "<x/>", "]]>", new string('x', 70_000)]);
            fields[field] = (fields[field].Name, fields[field].Xml + weird);
            return SoapCase($"soap.weird-value.{fields[field].Name}", Encoding.UTF8.GetBytes(Envelope(fields)), fields[field].Name == "Id" ? null : id);
        }

        if (roll < 520)
        {
            var (kind, xml) = random.Next(6) switch
            {
                0 => ("no-body", $"<s:Envelope xmlns:s=\"{SoapNs}\"></s:Envelope>"),
                1 => ("wrong-namespace", Envelope(fields).Replace("urn:relay:messaging:v1", "urn:other", StringComparison.Ordinal)),
                2 => ("soap12-envelope", Envelope(fields).Replace(SoapNs, "http://www.w3.org/2003/05/soap-envelope", StringComparison.Ordinal)),
                3 => ("unknown-operation", Envelope(fields).Replace("<Send ", "<Drop ", StringComparison.Ordinal).Replace("</Send>", "</Drop>", StringComparison.Ordinal)),
                4 => ("not-xml", "{\"id\": 1}"),
                _ => ("two-bodies", Envelope(fields).Replace("</s:Envelope>", "<s:Body/></s:Envelope>", StringComparison.Ordinal)),
            };
            return SoapCase($"soap.structure.{kind}", Encoding.UTF8.GetBytes(xml), kind is "wrong-namespace" or "soap12-envelope" or "unknown-operation" or "not-xml" ? id : null);
        }

        if (roll < 560)
        {
            var depth = Pick(random, [100, 1_000, 50_000]);
            var nested = string.Concat(Enumerable.Repeat("<d>", depth)) + string.Concat(Enumerable.Repeat("</d>", depth));
            fields[2] = ("Payload", nested);
            return SoapCase($"soap.deep.{depth}", Encoding.UTF8.GetBytes(Envelope(fields)), null);
        }

        if (roll < 620)
        {
            var text = Envelope(fields);
            var at = text.IndexOf("</Payload>", StringComparison.Ordinal);
            var body = Encoding.UTF8.GetBytes(text[..at]).Concat(Pick(random, BadUtf8)).Concat(Encoding.UTF8.GetBytes(text[at..])).ToArray();
            return SoapCase("soap.bad-utf8", body, null);
        }

        if (roll < 680)
        {
            fields[1] = ("Destination", Pick(random, ["no-such-destination", "", " "]));
            return SoapCase("soap.semantic.destination", Encoding.UTF8.GetBytes(Envelope(fields)), id);
        }

        if (roll < 720)
        {
            var action = Pick(random, ["", "\"\"", "\"urn:relay:messaging:v1/IMessagingService/Drop\"", "ebXML", new string('a', 10_000)]);
            return SoapCase("soap.action", Encoding.UTF8.GetBytes(Envelope(fields)), id) with { Headers = [KeyValuePair.Create("SOAPAction", action)] };
        }

        if (roll < 750)
        {
            var type = Pick(random, ["application/soap+xml; charset=utf-8", "application/json", "text/plain", "text/xml; charset=latin1", ""]);
            return SoapCase("soap.content-type", Encoding.UTF8.GetBytes(Envelope(fields)), id) with { ContentType = type.Length == 0 ? null : type };
        }

        if (roll < 780)
        {
            var credentials = random.Next(2) == 0 ? Credentials.None : Credentials.Wrong;
            return SoapCase($"soap.credentials.{credentials}", Encoding.UTF8.GetBytes(Envelope(fields)), id) with { Credentials = credentials };
        }

        if (roll < 800)
        {
            fields[2] = ("Payload", new string('p', 1024 * 1024 + 1));
            return SoapCase("soap.oversize", Encoding.UTF8.GetBytes(Envelope(fields)), id);
        }

        if (roll < 940)
        {
            return SoapCase("soap.byte-mutation", Mutate(random, Encoding.UTF8.GetBytes(Envelope(fields))), null);
        }

        var whole = Encoding.UTF8.GetBytes(Envelope(fields));
        return SoapCase("soap.truncated", whole[..random.Next(whole.Length)], null);
    }

    private static string Envelope(List<(string Name, string Xml)> fields) =>
        $"<s:Envelope xmlns:s=\"{SoapNs}\"><s:Body><Send xmlns=\"urn:relay:messaging:v1\"><request>" +
        string.Concat(fields.Select(f => $"<{f.Name}>{f.Xml}</{f.Name}>")) +
        "</request></Send></s:Body></s:Envelope>";

    private static FuzzCase SoapCase(string kind, byte[] body, string? trackedId, bool mustBeAccepted = false) => new()
    {
        Door = Door.Soap,
        Kind = kind,
        Path = "Messaging.svc",
        Body = body,
        ContentType = "text/xml; charset=utf-8",
        Headers = [KeyValuePair.Create("SOAPAction", SoapAction)],
        TrackedId = trackedId,
        MustBeAccepted = mustBeAccepted,
    };

    // ----- the portal's forms -----

    private FuzzCase Portal(Random random, long index)
    {
        var target = random.Next(4) == 0 ? MessageId(random.NextInt64(Math.Max(1, index))) : DeadId(random.Next(8));
        var value = FormValue(random);
        var roll = random.Next(100);
        if (roll < 15)
        {
            return new FuzzCase
            {
                Door = Door.Portal,
                Kind = "portal.login",
                Path = "portal/login",
                Form = [KeyValuePair.Create("key", value), KeyValuePair.Create("returnUrl", FormValue(random))],
                Credentials = Credentials.LoginPage,
            };
        }

        if (roll < 25)
        {
            var query = string.Join('&', Enumerable.Range(0, random.Next(1, 5)).Select(_ =>
                $"{Pick(random, ["status", "destination", "from", "to", "page", "after", "q", "sort"])}={Uri.EscapeDataString(FormValue(random))}"));
            return new FuzzCase { Door = Door.Portal, Kind = "portal.list-query", Method = HttpMethod.Get, Path = "portal/messages?" + query, Credentials = Credentials.Portal };
        }

        if (roll < 30)
        {
            return new FuzzCase { Door = Door.Portal, Kind = "portal.message-page", Method = HttpMethod.Get, Path = "portal/messages/" + Uri.EscapeDataString(FormValue(random)), Credentials = Credentials.Portal };
        }

        var handler = Pick(random, ["Edit", "Resubmit", "Discard", "Pause", "Resume", "ResubmitSelected", "ResubmitAll", Pick(random, ["", "Nope", "edit"])]);
        var path = handler switch
        {
            "Pause" or "Resume" => $"portal?handler={handler}",
            "ResubmitSelected" or "ResubmitAll" => $"portal/messages?handler={handler}",
            _ => $"portal/messages/{Uri.EscapeDataString(target)}?handler={Uri.EscapeDataString(handler)}",
        };
        var form = new List<KeyValuePair<string, string>>();
        foreach (var name in new[] { "destination", "payload", "contract", "confirmed", "ids" })
        {
            if (random.Next(3) != 0)
            {
                form.Add(KeyValuePair.Create(name, name switch
                {
                    "destination" => random.Next(2) == 0 ? Pick(random, [options.DeadDestination, options.Destination]) : value,
                    "confirmed" => Pick(random, ["true", "false", "1", "on", value]),
                    "ids" => random.Next(2) == 0 ? target : value,
                    _ => random.Next(2) == 0 ? "x" : FormValue(random),
                }));
            }
        }

        var credentials = random.Next(10) == 0 ? Credentials.PortalWithoutToken : Credentials.Portal;
        return new FuzzCase { Door = Door.Portal, Kind = $"portal.post.{handler}.{credentials}", Path = path, Form = form, Credentials = credentials };
    }

    private static string FormValue(Random random) => random.Next(6) switch
    {
        0 => Pick(random, Weird),
        1 => new string('v', Pick(random, [0, 1, 300, 5_000, 200_000])),
        2 => "//evil.example/x",
        3 => string.Concat(Enumerable.Range(0, random.Next(1, 40)).Select(_ => (char)random.Next(0, 0xD7FF))),
        4 => Convert.ToString(random.Next(), CultureInfo.InvariantCulture),
        _ => "<img src=x onerror=alert(1)>",
    };

    // ----- helpers -----

    private static byte[] Bytes(JsonObject message) => Encoding.UTF8.GetBytes(message.ToJsonString(Relaxed));

    private static string Escape(string text) => SecurityElement.Escape(text);

    private static string Around(Random random, string weird) => random.Next(3) switch
    {
        0 => weird,
        1 => "a" + weird,
        _ => "a" + weird + "b",
    };

    /// <summary>1 to 8 random edits: flip a byte, insert one, delete one, repeat a slice.</summary>
    private static byte[] Mutate(Random random, byte[] body)
    {
        var bytes = new List<byte>(body);
        for (var n = random.Next(1, 9); n > 0 && bytes.Count > 0; n--)
        {
            var at = random.Next(bytes.Count);
            switch (random.Next(4))
            {
                case 0:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 1:
                    bytes.Insert(at, Pick(random, "{}[]\",:\\<>&;'\0\u00ff"u8.ToArray()));
                    break;
                case 2:
                    bytes.RemoveAt(at);
                    break;
                default:
                    var length = Math.Min(random.Next(1, 64), bytes.Count - at);
                    bytes.InsertRange(at, bytes.GetRange(at, length));
                    break;
            }
        }

        return [.. bytes];
    }

    private static T Pick<T>(Random random, IReadOnlyList<T> items) => items[random.Next(items.Count)];
}
