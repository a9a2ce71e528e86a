using Relay.Contracts;
using Relay.Core.Storage;

namespace Relay.Grains.Operations;

/// <summary>
/// One bulk operation (resubmit or discard every delivery a filter matches), keyed by its id: a background job that
/// walks the filter once with a keyset cursor, stores its progress after each step, and goes on after a silo restart
/// (its reminder reactivates it), until it has walked the whole filter or is cancelled.
/// </summary>
public interface IBulkOperationGrain : IGrainWithStringKey
{
    /// <summary>Starts the operation (a second start of the same id answers it as it is); answers it with its total.</summary>
    Task<BulkOperationView> Start(BulkOperationRequest request);

    /// <summary>The operation as it is now; null when no operation has this id.</summary>
    Task<BulkOperationView?> Get();

    /// <summary>Stops a running operation before its next step; answers it as it is (unchanged when it had ended).</summary>
    Task<BulkOperationView?> Cancel(string? by);
}

/// <summary>The recent bulk operations of the cluster (one grain, key 0), newest first, for the lists of the API and portal.</summary>
public interface IBulkOperationIndexGrain : IGrainWithIntegerKey
{
    Task Add(string operationId);

    Task<string[]> Recent(int limit);
}

public enum BulkAction
{
    Resubmit,
    Discard,
}

public enum BulkOperationStatus
{
    /// <summary>No operation with this id was started.</summary>
    None,
    Running,
    Completed,
    Cancelled,
    /// <summary>Stopped after its steps failed again and again (the database unreachable); <see cref="BulkOperationView.Error"/> says why.</summary>
    Failed,
}

/// <summary>What a bulk operation acts on: the deliveries of one status, optionally narrowed as the portal's filter.</summary>
[GenerateSerializer, Immutable]
public sealed record BulkFilter
{
    [Id(0)] public DeliveryStatus Status { get; init; } = DeliveryStatus.DeadLettered;
    [Id(1)] public string? Destination { get; init; }
    [Id(2)] public string? Topic { get; init; }
    [Id(3)] public DateTimeOffset? AcceptedFrom { get; init; }
    [Id(4)] public DateTimeOffset? AcceptedTo { get; init; }
    [Id(5)] public string? IdContains { get; init; }

    public DeliveryFilter ToDeliveryFilter() => new()
    {
        Status = Status,
        Destination = Destination,
        Topic = Topic,
        AcceptedFrom = AcceptedFrom,
        AcceptedTo = AcceptedTo,
        IdContains = IdContains,
    };
}

[GenerateSerializer, Immutable]
public sealed record BulkOperationRequest(
    [property: Id(0)] BulkAction Action,
    [property: Id(1)] BulkFilter Filter,
    [property: Id(2)] string? By);

/// <summary>A bulk operation and its progress.</summary>
[GenerateSerializer, Immutable]
public sealed record BulkOperationView
{
    [Id(0)] public required string Id { get; init; }
    [Id(1)] public required BulkAction Action { get; init; }
    [Id(2)] public required BulkFilter Filter { get; init; }
    [Id(3)] public required BulkOperationStatus Status { get; init; }
    /// <summary>The deliveries the filter matched when the operation started.</summary>
    [Id(4)] public long Total { get; init; }
    /// <summary>Resubmitted (or discarded) so far.</summary>
    [Id(5)] public long Done { get; init; }
    /// <summary>Met but left alone: it had moved on since (resubmitted, delivered or discarded meanwhile).</summary>
    [Id(6)] public long Skipped { get; init; }
    /// <summary>The action failed (the delivery's grain or the database did not answer); such a delivery stays as it was.</summary>
    [Id(7)] public long Failed { get; init; }
    [Id(8)] public string? By { get; init; }
    [Id(9)] public DateTimeOffset CreatedAt { get; init; }
    [Id(10)] public DateTimeOffset UpdatedAt { get; init; }
    [Id(11)] public DateTimeOffset? CompletedAt { get; init; }
    [Id(12)] public string? CancelledBy { get; init; }
    [Id(13)] public string? Error { get; init; }

    public bool IsRunning => Status == BulkOperationStatus.Running;
}
