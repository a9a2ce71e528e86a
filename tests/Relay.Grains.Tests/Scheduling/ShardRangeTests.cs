using Relay.Core.Messages;
using Relay.Grains.Scheduling;

namespace Relay.Grains.Tests.Scheduling;

/// <summary>
/// How the retry schedulers split the delivery shards: every shard is polled by exactly one scheduler, whatever
/// the configured number of schedulers (1 to <see cref="DeliveryKey.ShardSpace"/>, as the validator allows).
/// Checked for every allowed count: a shard owned by no one would never be retried, one owned twice would be
/// polled twice.
/// </summary>
public sealed class ShardRangeTests
{
    [Fact]
    public void Every_shard_is_owned_by_exactly_one_scheduler_for_every_allowed_count()
    {
        for (var count = 1; count <= DeliveryKey.ShardSpace; count++)
        {
            var owners = new int[DeliveryKey.ShardSpace];
            for (var index = 0; index < count; index++)
            {
                var (from, to) = RetrySchedulerGrain.ShardRange(index, count);
                Assert.True(from <= to, $"Scheduler {index} of {count} owns no shard ({from}..{to}).");
                for (var shard = from; shard <= to; shard++)
                {
                    owners[shard]++;
                }
            }

            var wrong = Enumerable.Range(0, owners.Length).Where(shard => owners[shard] != 1).ToList();
            Assert.True(wrong.Count == 0, $"With {count} schedulers, shards {string.Join(", ", wrong.Take(5))} have {owners[wrong.FirstOrDefault()]} owners.");
        }
    }

    [Fact]
    public void The_ranges_follow_one_another_in_index_order()
    {
        for (var count = 1; count <= DeliveryKey.ShardSpace; count++)
        {
            var expectedFrom = 0;
            for (var index = 0; index < count; index++)
            {
                var (from, to) = RetrySchedulerGrain.ShardRange(index, count);
                Assert.Equal(expectedFrom, from);
                expectedFrom = to + 1;
            }

            Assert.Equal(DeliveryKey.ShardSpace, expectedFrom);
        }
    }

    [Theory]
    [InlineData(1, 1024)]
    [InlineData(2, 512)]
    [InlineData(3, 341)]
    [InlineData(7, 146)]
    [InlineData(1024, 1)]
    public void The_schedulers_share_the_shards_evenly(int count, int smallest)
    {
        var sizes = Enumerable.Range(0, count).Select(index => RetrySchedulerGrain.ShardRange(index, count)).Select(r => r.To - r.From + 1).ToList();

        Assert.Equal(smallest, sizes.Min());
        Assert.True(sizes.Max() - sizes.Min() <= 1, $"Sizes from {sizes.Min()} to {sizes.Max()}.");
    }
}
