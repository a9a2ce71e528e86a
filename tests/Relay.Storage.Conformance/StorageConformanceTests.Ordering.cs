namespace Relay.Storage.Conformance;

/// <summary>The ordering queues (<see cref="Relay.Core.Storage.IOrderingQueueStore"/>): one row per waiting message.</summary>
public abstract partial class StorageConformanceTests
{
    [Fact]
    public async Task An_ordering_queue_keeps_acceptance_order_and_answers_its_head()
    {
        var queue = Unique("billing") + "/shop/customer-42";

        var first = await Storage.Queues.EnqueueAsync(queue, "m1");
        var second = await Storage.Queues.EnqueueAsync(queue, "m2");
        var third = await Storage.Queues.EnqueueAsync(queue, "m3");

        Assert.Equal(new(true, "m1"), first);
        Assert.Equal(new(true, "m1"), second);
        Assert.Equal(new(true, "m1"), third);
        Assert.Equal(3, await Storage.Queues.CountAsync(queue));
    }

    [Fact]
    public async Task Queuing_a_message_again_changes_nothing()
    {
        var queue = Unique("billing") + "/*/k";
        await Storage.Queues.EnqueueAsync(queue, "m1");
        await Storage.Queues.EnqueueAsync(queue, "m2");

        var again = await Storage.Queues.EnqueueAsync(queue, "m2");
        var headAgain = await Storage.Queues.EnqueueAsync(queue, "m1");

        Assert.Equal(new(false, "m1"), again);
        Assert.Equal(new(false, "m1"), headAgain);
        Assert.Equal(2, await Storage.Queues.CountAsync(queue));
        // Removed and queued again, a message goes to the tail.
        await Storage.Queues.RemoveAsync(queue, "m1");
        Assert.Equal(new(true, "m2"), await Storage.Queues.EnqueueAsync(queue, "m1"));
        Assert.Equal(new(true, "m1"), await Storage.Queues.RemoveAsync(queue, "m2"));
    }

    [Fact]
    public async Task Removing_the_head_answers_the_next_and_removing_twice_or_from_the_middle_is_harmless()
    {
        var queue = Unique("billing") + "/shop/k";
        foreach (var id in (string[])["m1", "m2", "m3", "m4"])
        {
            await Storage.Queues.EnqueueAsync(queue, id);
        }

        Assert.Equal(new(true, "m1"), await Storage.Queues.RemoveAsync(queue, "m3"));
        Assert.Equal(new(true, "m2"), await Storage.Queues.RemoveAsync(queue, "m1"));
        Assert.Equal(new(false, "m2"), await Storage.Queues.RemoveAsync(queue, "m1"));
        Assert.Equal(new(true, "m4"), await Storage.Queues.RemoveAsync(queue, "m2"));
        Assert.Equal(new(true, null), await Storage.Queues.RemoveAsync(queue, "m4"));
        Assert.Equal(0, await Storage.Queues.CountAsync(queue));
        // Emptied, it starts again.
        Assert.Equal(new(true, "m5"), await Storage.Queues.EnqueueAsync(queue, "m5"));
    }

    [Fact]
    public async Task Queues_are_apart_even_when_one_key_is_a_prefix_of_another()
    {
        var destination = Unique("billing");
        var a = destination + "/shop/k";
        var b = destination + "/shop/k2";
        var c = destination + "/other/k";
        await Storage.Queues.EnqueueAsync(a, "m1");
        await Storage.Queues.EnqueueAsync(b, "m2");
        await Storage.Queues.EnqueueAsync(c, "m1");

        Assert.Equal(new(true, null), await Storage.Queues.RemoveAsync(a, "m1"));
        Assert.Equal(1, await Storage.Queues.CountAsync(b));
        Assert.Equal(1, await Storage.Queues.CountAsync(c));
        Assert.Equal(new(false, "m1"), await Storage.Queues.EnqueueAsync(c, "m1"));
    }
}
