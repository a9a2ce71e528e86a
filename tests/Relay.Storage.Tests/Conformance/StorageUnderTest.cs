using Orleans;
using Orleans.Storage;
using Relay.Core.Storage;

namespace Relay.Storage.Tests.Conformance;

/// <summary>The three faces of a storage backend that the conformance suite exercises.</summary>
public sealed record StorageUnderTest(IGrainStorage GrainStorage, IReminderTable Reminders, IRelayStore Store);
