namespace Relay.Grains.Scheduling;

/// <summary>
/// One of <c>Relay:Scheduler:Shards</c> retry schedulers, keyed by its index. Each owns a range of the
/// delivery shards, polls the store for its due deliveries and wakes their grains. An Orleans reminder
/// keeps every scheduler alive somewhere in the cluster, and brings it back on another silo when its silo dies.
/// </summary>
public interface IRetrySchedulerGrain : IGrainWithIntegerKey
{
    /// <summary>Activates the scheduler if it is not running.</summary>
    Task Ping();
}
