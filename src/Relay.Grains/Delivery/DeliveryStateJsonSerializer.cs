using System.Text.Json;
using System.Text.Json.Serialization;
using Orleans.Storage;
using Relay.Core.Storage;

namespace Relay.Grains.Delivery;

/// <summary>
/// Grain-state serializer for stores that keep Relay's delivery index in SQL: a delivery's state as JSON
/// (camelCase, enums by name, payload base64, and its unsaved audit entries under <c>pendingAudit</c>), so the
/// store's own write query can project the index row and the audit from it in the same transaction.
/// sql/postgresql/0004_relay.sql reads this shape: change both together.
/// </summary>
public sealed class DeliveryStateJsonSerializer(OrleansGrainStorageSerializer fallback) : IGrainStorageSerializer
{
    public BinaryData Serialize<T>(T? input) =>
        input is DeliveryState state
            ? new BinaryData(JsonSerializer.SerializeToUtf8Bytes(state, DeliveryStateJson.Default.DeliveryState))
            : fallback.Serialize(input);

    public T? Deserialize<T>(BinaryData input)
    {
        if (typeof(T) == typeof(DeliveryState))
        {
            return (T?)(object?)JsonSerializer.Deserialize(input.ToMemory().Span, DeliveryStateJson.Default.DeliveryState);
        }

        return fallback.Deserialize<T>(input);
    }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(DeliveryState))]
[JsonSerializable(typeof(AuditEntry))]
internal sealed partial class DeliveryStateJson : JsonSerializerContext;
