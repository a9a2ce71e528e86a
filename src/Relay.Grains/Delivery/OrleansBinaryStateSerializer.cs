using Orleans.Serialization;
using Orleans.Storage;

namespace Relay.Grains.Delivery;

/// <summary>
/// Orleans's binary form of a grain state, byte for byte what <see cref="OrleansGrainStorageSerializer"/> writes, but
/// written into Orleans's pooled buffers and copied once into an array of its exact size: Orleans's own serializer
/// writes into a new <c>ArrayBufferWriter</c> that regrows, and the array the storage stores was then a copy of it
/// (issue 14). The storage takes the array as it is (<see cref="DeliveryStateSerializer"/>).
/// </summary>
public sealed class OrleansBinaryStateSerializer(Serializer serializer) : IGrainStorageSerializer
{
    public BinaryData Serialize<T>(T? input) => new(serializer.SerializeToArray(input));

    public T? Deserialize<T>(BinaryData input) => serializer.Deserialize<T>(input.ToMemory());
}
