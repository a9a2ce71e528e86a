using Orleans;
using Orleans.Storage;
using Relay.Core.Catalog;
using Relay.Core.Storage;

namespace Relay.Storage.Conformance;

/// <summary>The faces of a storage backend that the conformance suite exercises, and the serializer of its grain storage.</summary>
public sealed record StorageUnderTest(IGrainStorage GrainStorage, IReminderTable Reminders, IRelayStore Store, IGrainStorageSerializer Serializer,
    IOrderingQueueStore Queues, ICatalogStore Catalog);
