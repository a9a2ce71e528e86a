using Relay.Core.Storage;

namespace Relay.Storage.AdoNet.Writing;

/// <summary>
/// One grain state write (or clear) queued for the <see cref="PostgresWriter"/>: what to write, the version it
/// expects, and with it, for a delivery, the delivery's row and its new audit entries. Its caller learns the outcome
/// once the batch it went into has committed.
/// </summary>
internal sealed class StateWrite
{
    // Continuations must not run on the writer loop, or one slow caller would hold up every later batch.
    private readonly TaskCompletionSource<long?> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public StateWrite(string grainId, string stateName, long? expectedVersion, byte[]? data, byte[]? content, DeliveryRow? row,
        IReadOnlyList<AuditEntry> audit, CancellationToken cancellationToken)
    {
        GrainId = grainId;
        StateName = stateName;
        ExpectedVersion = expectedVersion;
        Data = data;
        Content = content;
        Row = row;
        Audit = audit;
        CancellationToken = cancellationToken;
    }

    public string GrainId { get; }

    public string StateName { get; }

    /// <summary>The version the stored state must have; null when no state may be stored.</summary>
    public long? ExpectedVersion { get; }

    /// <summary>The serialized state; null to clear it.</summary>
    public byte[]? Data { get; }

    /// <summary>The state's content, stored apart (<see cref="IStateContentSerializer"/>); null to keep what is stored.</summary>
    public byte[]? Content { get; }

    public bool IsClear => Data is null;

    /// <summary>A new delivery: the first write of a delivery state. Its message id must not be taken by other content.</summary>
    public bool IsNewDelivery => Row is not null && ExpectedVersion is null && !IsClear;

    public DeliveryRow? Row { get; }

    public IReadOnlyList<AuditEntry> Audit { get; }

    public CancellationToken CancellationToken { get; }

    /// <summary>The new version (null for a clear), once committed.</summary>
    public Task<long?> Completion => _completion.Task;

    /// <summary>The version this write stored, set by the batch before it commits.</summary>
    public long? NewVersion { get; set; }

    /// <summary>Why the batch refused this write (an ETag conflict, a taken message id), set before it commits.</summary>
    public Exception? Refusal { get; set; }

    public void Complete() => _completion.TrySetResult(NewVersion);

    public void Fail(Exception exception) => _completion.TrySetException(exception);

    public void Cancel() => _completion.TrySetCanceled(CancellationToken);

    public string Describe() => $"state '{StateName}' of grain {GrainId}";
}
