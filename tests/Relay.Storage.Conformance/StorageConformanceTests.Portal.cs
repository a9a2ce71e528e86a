using Relay.Contracts;
using Relay.Core.Storage;

namespace Relay.Storage.Conformance;

/// <summary>The queries of the operator portal: the list's filters, the overview's counts and chart.</summary>
public abstract partial class StorageConformanceTests
{
    [Fact]
    public async Task Listing_filters_by_topic()
    {
        var destination = Unique("billing");
        var topic = Unique("order.created");
        var onTopic = Row(Unique("msg"), destination) with { Topic = topic };
        var otherTopic = Row(Unique("msg"), destination) with { Topic = Unique("order.cancelled") };
        var direct = Row(Unique("msg"), destination);
        await Task.WhenAll(new[] { onTopic, otherTopic, direct }.Select(row => WriteDeliveryAsync(row)));

        var page = await Storage.Store.ListMessagesAsync(new MessageQuery { Topic = topic });

        Assert.Equal([onTopic.MessageId], page.Items.Select(m => m.MessageId));
    }

    [Fact]
    public async Task Listing_filters_by_accepted_time_from_inclusive_to_exclusive()
    {
        var destination = Unique("billing");
        var rows = Enumerable.Range(0, 5).Select(i => Row(Unique("msg"), destination, acceptedAt: BaseTime.AddMinutes(i))).ToArray();
        await Task.WhenAll(rows.Select(row => WriteDeliveryAsync(row)));

        var page = await Storage.Store.ListMessagesAsync(new MessageQuery
        {
            Destination = destination,
            AcceptedFrom = BaseTime.AddMinutes(1),
            AcceptedTo = BaseTime.AddMinutes(3),
        });

        Assert.Equal([rows[2].MessageId, rows[1].MessageId], page.Items.Select(m => m.MessageId));
    }

    [Fact]
    public async Task Listing_by_id_text_matches_it_literally_wildcards_included()
    {
        var destination = Unique("billing");
        var marker = Guid.NewGuid().ToString("N")[..12];
        var percent = Row($"order-{marker}%_1", destination);
        var plain = Row($"order-{marker}ab1", destination);
        var upper = Row($"ORDER-{marker.ToUpperInvariant()}X", destination);
        await Task.WhenAll(new[] { percent, plain, upper }.Select(row => WriteDeliveryAsync(row)));

        var wildcard = await Storage.Store.ListMessagesAsync(new MessageQuery { Destination = destination, IdContains = $"{marker}%_" });
        var text = await Storage.Store.ListMessagesAsync(new MessageQuery { Destination = destination, IdContains = $"order-{marker}" });
        var underscore = await Storage.Store.ListMessagesAsync(new MessageQuery { Destination = destination, IdContains = "_" });

        // '%' and '_' are characters, not patterns: only the id that has them matches.
        Assert.Equal([percent.MessageId], wildcard.Items.Select(m => m.MessageId));
        Assert.Equal([percent.MessageId], underscore.Items.Select(m => m.MessageId));
        // Case-sensitive on every backend.
        Assert.Equal(new[] { percent.MessageId, plain.MessageId }.Order(StringComparer.Ordinal),
            text.Items.Select(m => m.MessageId).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Listing_combines_every_filter_and_pages_with_them()
    {
        var billing = Unique("billing");
        var topic = Unique("order.created");
        var marker = Guid.NewGuid().ToString("N")[..10];
        var matching = Enumerable.Range(0, 3)
            .Select(i => Row($"{marker}-{i}", billing, DeliveryStatus.DeadLettered, BaseTime.AddSeconds(10 + i)) with { Topic = topic })
            .ToArray();
        var delivered = Row($"{marker}-delivered", billing, DeliveryStatus.Delivered, BaseTime.AddSeconds(11)) with { Topic = topic };
        var tooEarly = Row($"{marker}-early", billing, DeliveryStatus.DeadLettered, BaseTime) with { Topic = topic };
        await Task.WhenAll(matching.Append(delivered).Append(tooEarly).Select(row => WriteDeliveryAsync(row)));

        var pages = await ListAllAsync(new MessageQuery
        {
            Status = DeliveryStatus.DeadLettered,
            Destination = billing,
            Topic = topic,
            AcceptedFrom = BaseTime.AddSeconds(5),
            AcceptedTo = BaseTime.AddMinutes(1),
            IdContains = marker,
            Limit = 2,
        });

        Assert.Equal([2, 1], pages.Select(p => p.Items.Count));
        Assert.Equal(matching.Reverse().Select(r => r.MessageId), pages.SelectMany(p => p.Items).Select(m => m.MessageId));
    }

    [Fact]
    public async Task Listing_refuses_an_id_text_over_the_limit()
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() =>
            Storage.Store.ListMessagesAsync(new MessageQuery { IdContains = new string('x', RelayStoreLimits.MaxIdContainsLength + 1) }));
    }

    [Fact]
    public async Task Deliveries_changed_since_a_time_are_counted_per_destination_and_status()
    {
        var billing = Unique("billing");
        var since = BaseTime.AddHours(5);
        DeliveryRow Changed(DeliveryStatus status, DateTimeOffset at) => Row(Unique("msg"), billing, status) with { UpdatedAt = at };
        await Task.WhenAll(new[]
        {
            Changed(DeliveryStatus.Delivered, since),
            Changed(DeliveryStatus.Delivered, since.AddMinutes(1)),
            Changed(DeliveryStatus.DeadLettered, since.AddMinutes(2)),
            Changed(DeliveryStatus.InRetry, since.AddSeconds(1)),
            Changed(DeliveryStatus.Delivered, since.AddMilliseconds(-1)),
            Changed(DeliveryStatus.DeadLettered, since.AddHours(-1)),
        }.Select(row => WriteDeliveryAsync(row)));

        var counts = (await Storage.Store.CountChangedSinceAsync(since)).Where(c => c.Destination == billing).ToArray();

        Assert.Equal(3, counts.Length);
        Assert.Contains(new DestinationCount(billing, DeliveryStatus.Delivered, 2), counts);
        Assert.Contains(new DestinationCount(billing, DeliveryStatus.DeadLettered, 1), counts);
        Assert.Contains(new DestinationCount(billing, DeliveryStatus.InRetry, 1), counts);
    }

    [Fact]
    public async Task Attempts_are_counted_per_destination_in_windows_succeeded_and_failed()
    {
        // A time window no other test uses.
        var from = new DateTimeOffset(1990, 6, 1, 12, 0, 0, TimeSpan.Zero);
        var billing = Unique("billing");
        var shipping = Unique("shipping");
        var first = Row(Unique("msg"), billing, DeliveryStatus.Delivered, from.AddMinutes(-1));
        var second = Row(Unique("msg"), billing, DeliveryStatus.InRetry, from);
        var third = Row(Unique("msg"), shipping, DeliveryStatus.Delivered, from);
        await WriteDeliveryAsync(first, null,
            Attempt(first, 1, from.AddMinutes(-1)),                                // before the span: left out
            Attempt(first, 2, from.AddSeconds(10)),                               // window 0, failed
            Attempt(first, 3, from.AddSeconds(70), AttemptOutcome.Success));      // window 1, succeeded
        await WriteDeliveryAsync(second, null,
            Attempt(second, 1, from.AddSeconds(59).AddMilliseconds(999)),        // window 0, failed
            Attempt(second, 2, from.AddSeconds(60), AttemptOutcome.NonRetryableFailure), // window 1, failed
            Attempt(second, 3, from.AddMinutes(3)));                             // past the span: left out
        await WriteDeliveryAsync(third, null, Attempt(third, 1, from.AddSeconds(150), AttemptOutcome.Success)); // window 2

        var buckets = (await Storage.Store.CountAttemptsAsync(from, TimeSpan.FromMinutes(1), 3))
            .Where(b => b.Destination == billing || b.Destination == shipping)
            .OrderBy(b => b.Destination, StringComparer.Ordinal).ThenBy(b => b.Bucket)
            .ToArray();

        Assert.Equal(
            new[]
            {
                new AttemptBucket(billing, 0, 0, 2),
                new AttemptBucket(billing, 1, 1, 1),
                new AttemptBucket(shipping, 2, 1, 0),
            }.OrderBy(b => b.Destination, StringComparer.Ordinal).ThenBy(b => b.Bucket),
            buckets);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(RelayStoreLimits.MaxBuckets + 1)]
    public async Task Counting_attempts_refuses_a_number_of_windows_outside_the_bounds(int buckets)
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Storage.Store.CountAttemptsAsync(BaseTime, TimeSpan.FromMinutes(1), buckets));
    }
}
