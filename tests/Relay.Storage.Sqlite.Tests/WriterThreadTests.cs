using Relay.Storage.Sqlite.Writing;

namespace Relay.Storage.Sqlite.Tests;

/// <summary>
/// The short tail of issue 14: the commit path blocks neither a pool thread (the writer has a thread of its own, as a
/// commit waits in fsync) nor on a WAL checkpoint (SQLite's automatic one is off on the writer connection; another
/// thread folds the WAL back).
/// </summary>
public sealed class WriterThreadTests
{
    [Fact]
    public async Task Batches_run_on_a_thread_of_their_own_not_on_the_thread_pool()
    {
        await using var host = SqliteTestHost.Create();

        var onPool = await host.Database.Writer.EnqueueAsync(new Probe<bool>(_ => Thread.CurrentThread.IsThreadPoolThread));

        Assert.False(onPool);
    }

    [Fact]
    public async Task A_commit_never_runs_a_checkpoint_and_the_wal_is_checkpointed_beside_it()
    {
        await using var host = SqliteTestHost.Create();

        var autoCheckpoint = await host.Database.Writer.EnqueueAsync(
            new Probe<long>(session => (long)session.Command("PRAGMA wal_autocheckpoint").ExecuteScalar()!));
        Assert.Equal(0, autoCheckpoint);

        var checkpointsBefore = host.Database.Checkpoints;
        var storage = host.Storage;
        for (var i = 0; i < 20; i++)
        {
            await storage.GrainStorage.WriteStateAsync("state", GrainId.Create("test", "checkpoint-" + i),
                new GrainState<CounterState>(new CounterState { Count = i }));
        }

        await Eventually.Until(() => host.Database.Checkpoints > checkpointsBefore, what: "a WAL checkpoint after the commits");
    }

    private sealed class Probe<T>(Func<WriterSession, T> run) : WriteOperation<T>(CancellationToken.None)
    {
        protected override T Run(WriterSession session) => run(session);
    }
}
