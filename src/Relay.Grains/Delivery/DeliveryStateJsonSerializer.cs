using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using Orleans.Storage;
using Relay.Core.Storage;

namespace Relay.Grains.Delivery;

/// <summary>
/// Grain-state serializer of the PostgreSQL storage: a delivery's state (and its content, stored apart) as JSON
/// (camelCase, enums by name, payload base64), the form delivery states had in OrleansStorage before script 0007 moved
/// them into relay_grain_state; any other state through <paramref name="fallback"/>.
/// </summary>
public sealed class DeliveryStateJsonSerializer(OrleansGrainStorageSerializer fallback) : IGrainStorageSerializer
{
    public BinaryData Serialize<T>(T? input) => input switch
    {
        DeliveryState state => new BinaryData(JsonSerializer.SerializeToUtf8Bytes(state, DeliveryStateJson.Default.DeliveryState)),
        DeliveryStateContent content => new BinaryData(JsonSerializer.SerializeToUtf8Bytes(content, DeliveryStateJson.Default.DeliveryStateContent)),
        _ => fallback.Serialize(input),
    };

    public T? Deserialize<T>(BinaryData input)
    {
        if (typeof(T) == typeof(DeliveryState))
        {
            return (T?)(object?)JsonSerializer.Deserialize(input.ToMemory().Span, DeliveryStateJson.Default.DeliveryState);
        }

        if (typeof(T) == typeof(DeliveryStateContent))
        {
            return (T?)(object?)JsonSerializer.Deserialize(input.ToMemory().Span, DeliveryStateJson.Default.DeliveryStateContent);
        }

        return fallback.Deserialize<T>(input);
    }
}

/// <summary>
/// The serializer of Relay's grain storage on both backends: a delivery's state in two parts, its content (payload,
/// content type, headers: written at acceptance, and again only when an operator edits it) and the rest (what every
/// attempt changes), each in the form of <paramref name="inner"/>. Any other state is <paramref name="inner"/>'s whole.
/// </summary>
public sealed class DeliveryStateSerializer(IGrainStorageSerializer inner) : IGrainStorageSerializer, IStateContentSerializer
{
    public BinaryData Serialize<T>(T? input) => inner.Serialize(input);

    public T? Deserialize<T>(BinaryData input) => inner.Deserialize<T>(input);

    public StateParts SerializeParts<T>(T state)
    {
        if (state is not DeliveryState delivery)
        {
            return new StateParts(Bytes(inner.Serialize(state)), Content: null);
        }

        var content = delivery.ContentUnsaved ? Bytes(inner.Serialize(delivery.Content())) : null;
        var data = delivery.WithoutContent(static (rest, serializer) => Bytes(serializer.Serialize(rest)), inner);
        return new StateParts(data, content);
    }

    /// <summary>
    /// The array <paramref name="data"/> wraps, when it wraps a whole one (as the serializers of both backends make a new
    /// array per state: <see cref="OrleansBinaryStateSerializer"/>, <see cref="DeliveryStateJsonSerializer"/>), else a copy
    /// of its bytes: <see cref="BinaryData.ToArray"/> copies even a whole array.
    /// </summary>
    private static byte[] Bytes(BinaryData data) =>
        MemoryMarshal.TryGetArray(data.ToMemory(), out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : data.ToArray();

    public T? Deserialize<T>(byte[] data, byte[]? content)
    {
        var state = inner.Deserialize<T>(new BinaryData(data));
        if (state is DeliveryState delivery)
        {
            if (content is not null)
            {
                delivery.ReadContent(inner.Deserialize<DeliveryStateContent>(new BinaryData(content))
                    ?? throw new InvalidOperationException($"The stored content of the delivery of '{delivery.MessageId}' is empty."));
            }
            else
            {
                // Stored whole, before contents were kept apart: its content is in data, and the next write stores it apart.
                delivery.ContentUnsaved = true;
            }
        }

        return state;
    }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(DeliveryState))]
[JsonSerializable(typeof(DeliveryStateContent))]
[JsonSerializable(typeof(AuditEntry))]
internal sealed partial class DeliveryStateJson : JsonSerializerContext;
