using Relay.Storage.Sqlite.Writing;

namespace Relay.Storage.Sqlite.Tests;

/// <summary>
/// Holds the writer loop inside a batch until released, so the writes queued meanwhile all go into the next
/// batch: tests of what happens inside one batch do not depend on timing.
/// </summary>
internal sealed class WriterHold : WriteOperation<bool>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly ManualResetEventSlim _entered = new();
    private readonly ManualResetEventSlim _released = new();

    private WriterHold()
        : base(CancellationToken.None)
    {
    }

    public static WriterHold Hold(SqliteDatabase database)
    {
        var hold = new WriterHold();
        _ = database.Writer.EnqueueAsync(hold);
        if (!hold._entered.Wait(Deadline))
        {
            throw new TimeoutException("The writer did not take the hold.");
        }

        return hold;
    }

    public Task ReleaseAsync()
    {
        _released.Set();
        return Completion;
    }

    protected override bool Run(WriterSession session)
    {
        _entered.Set();
        return _released.Wait(Deadline);
    }
}
