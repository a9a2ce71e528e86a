namespace Relay.Storage.Sqlite.Writing;

/// <summary>
/// One write queued for the <see cref="GroupCommitWriter"/>. It runs inside the writer's batch transaction,
/// within a savepoint of its own: throwing from <see cref="Execute"/> undoes and fails this operation only.
/// Its caller learns the outcome after the batch has committed.
/// </summary>
internal abstract class WriteOperation(CancellationToken cancellationToken)
{
    public CancellationToken CancellationToken { get; } = cancellationToken;

    public abstract void Execute(WriterSession session);

    /// <summary>What this operation writes, for the log.</summary>
    public virtual string Describe() => GetType().Name;

    /// <summary>The batch committed: hand the result of <see cref="Execute"/> to the caller.</summary>
    public abstract void Complete();

    public abstract void Fail(Exception exception);

    public abstract void Cancel();
}

internal abstract class WriteOperation<TResult>(CancellationToken cancellationToken) : WriteOperation(cancellationToken)
{
    // Continuations must not run on the writer loop, or one slow caller would hold up every later batch.
    private readonly TaskCompletionSource<TResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TResult? _result;

    public Task<TResult> Completion => _completion.Task;

    protected abstract TResult Run(WriterSession session);

    public sealed override void Execute(WriterSession session) => _result = Run(session);

    public sealed override void Complete() => _completion.TrySetResult(_result!);

    public sealed override void Fail(Exception exception) => _completion.TrySetException(exception);

    public sealed override void Cancel() => _completion.TrySetCanceled(CancellationToken);
}
