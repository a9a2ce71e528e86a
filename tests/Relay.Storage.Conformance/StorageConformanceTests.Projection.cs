using Orleans.Storage;
using Relay.Contracts;
using Relay.Core.Messages;
using Relay.Core.Storage;
using Relay.Grains.Delivery;

namespace Relay.Storage.Conformance;

public abstract partial class StorageConformanceTests
{
    [Fact]
    public async Task Writing_a_delivery_state_stores_its_row_and_audit()
    {
        var row = Row(Unique("msg"), Unique("billing"), DeliveryStatus.InRetry) with
        {
            Topic = "order.created",
            Attempts = 2,
            UpdatedAt = BaseTime.AddSeconds(10),
            DueAt = BaseTime.AddSeconds(15),
            NextAttemptAt = BaseTime.AddSeconds(15),
            LastError = "503 Service Unavailable",
            ResponseStatusCode = 503,
            ResponseHeadersJson = """{"Retry-After":"5"}""",
            ResponseBody = "busy",
            CorrelationId = "req-9",
            Sender = "shop",
        };
        var second = Attempt(row, 2, BaseTime.AddSeconds(10));
        var first = Attempt(row, 1, BaseTime.AddSeconds(1));

        await WriteDeliveryAsync(row, null, second, first);

        var message = await GetMessageAsync(row.MessageId);
        Assert.Equal(row.MessageId, message.MessageId);
        Assert.Equal(row, Assert.Single(message.Deliveries));
        Assert.Equal([first, second], message.Audit);
    }

    [Fact]
    public async Task A_delivery_state_reads_back_with_the_trace_context_its_retries_join()
    {
        const string traceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        var row = Row(Unique("msg"), Unique("billing"), DeliveryStatus.InRetry);
        var state = DeliveryStateOf(row);
        state.TraceParent = traceParent;
        await WriteAsync(DeliveryGrainId(row), state, stateName: "delivery");
        var untraced = Row(Unique("msg"), Unique("billing"), DeliveryStatus.InRetry);
        await WriteDeliveryAsync(untraced);

        var read = await ReadAsync<DeliveryState>(DeliveryGrainId(row), "delivery");
        var readUntraced = await ReadAsync<DeliveryState>(DeliveryGrainId(untraced), "delivery");

        Assert.Equal(traceParent, read.State!.TraceParent);
        Assert.Equal(row.MessageId, read.State.MessageId);
        Assert.Null(readUntraced.State!.TraceParent);
    }

    [Fact]
    public async Task Times_come_back_as_utc()
    {
        var row = Row(Unique("msg"), Unique("billing"), acceptedAt: new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.FromHours(2)));

        await WriteDeliveryAsync(row);

        var stored = Assert.Single((await GetMessageAsync(row.MessageId)).Deliveries);
        Assert.Equal(TimeSpan.Zero, stored.AcceptedAt.Offset);
        Assert.Equal(row.AcceptedAt, stored.AcceptedAt);
    }

    [Fact]
    public async Task Writing_the_same_audit_entry_again_does_not_duplicate_it()
    {
        var row = Row(Unique("msg"), Unique("billing"), DeliveryStatus.InRetry);
        var first = Attempt(row, 1, BaseTime.AddSeconds(1));
        var state = await WriteDeliveryAsync(row, null, first);

        // The grain wrote, but did not learn it did (say, a timeout), and writes its unsaved audit again.
        var second = Attempt(row, 2, BaseTime.AddSeconds(6), AttemptOutcome.Success);
        state.State!.Status = DeliveryStatus.Delivered;
        state.State.PendingAudit.Clear();
        state.State.PendingAudit.AddRange([first with { Error = "a different text" }, second]);
        await Storage.GrainStorage.WriteStateAsync("delivery", DeliveryGrainId(row), state);

        var message = await GetMessageAsync(row.MessageId);
        Assert.Equal([first, second], message.Audit);
        Assert.Equal(DeliveryStatus.Delivered, Assert.Single(message.Deliveries).Status);
    }

    [Fact]
    public async Task A_refused_write_changes_neither_the_row_nor_the_audit()
    {
        var row = Row(Unique("msg"), Unique("billing"), DeliveryStatus.InRetry);
        var first = Attempt(row, 1, BaseTime.AddSeconds(1));
        var written = await WriteDeliveryAsync(row, null, first);
        var stale = written.ETag;
        await Storage.GrainStorage.WriteStateAsync("delivery", DeliveryGrainId(row), written);

        await Assert.ThrowsAsync<InconsistentStateException>(() =>
            WriteDeliveryAsync(row with { Status = DeliveryStatus.DeadLettered }, stale, Attempt(row, 2, BaseTime.AddSeconds(2))));

        var message = await GetMessageAsync(row.MessageId);
        Assert.Equal(DeliveryStatus.InRetry, Assert.Single(message.Deliveries).Status);
        Assert.Equal([first], message.Audit);
    }

    [Fact]
    public async Task A_write_the_database_refuses_fails_alone_and_stores_nothing_of_itself()
    {
        var good = Enumerable.Range(0, 20).Select(i => Row(Unique("msg"), Unique("billing"))).ToArray();
        // A row without its destination: the backend cannot store it.
        var bad = Row(Unique("msg"), "placeholder") with { Destination = null! };
        var badGrain = NewGrainId("delivery");

        var badWrite = WriteAsync(badGrain, DeliveryStateOf(bad, Attempt(bad, 1, BaseTime)), stateName: "delivery");
        var goodWrites = good.Select(row => WriteDeliveryAsync(row, null, Attempt(row, 1, BaseTime))).ToArray();

        await Assert.ThrowsAnyAsync<Exception>(() => badWrite);
        await Task.WhenAll(goodWrites);
        Assert.False((await ReadAsync<DeliveryState>(badGrain, "delivery")).RecordExists);
        Assert.Null(await Storage.Store.GetMessageAsync(bad.MessageId, includeAudit: true));
        foreach (var row in good)
        {
            Assert.Single((await GetMessageAsync(row.MessageId)).Audit);
        }
    }

    [Fact]
    public async Task The_first_write_of_a_delivery_whose_message_id_other_content_holds_is_refused_and_stores_nothing()
    {
        var messageId = Unique("msg");
        var first = Row(messageId, Unique("billing"));
        await WriteDeliveryAsync(first);
        // The same content to another destination is another delivery of the same message...
        var sibling = Row(messageId, Unique("shipping"));
        await WriteDeliveryAsync(sibling);

        // ...other content, or the same content from another sender, is another message under a taken id.
        var other = Row(messageId, Unique("audit")) with { ContentHash = "sha256:other" };
        var otherSender = Row(messageId, Unique("audit")) with { Sender = "partner-b" };
        await Assert.ThrowsAsync<MessageIdTakenException>(() => WriteDeliveryAsync(other));
        await Assert.ThrowsAsync<MessageIdTakenException>(() => WriteDeliveryAsync(otherSender));

        var stored = await GetMessageAsync(messageId, includeAudit: false);
        Assert.Equal(new[] { first.Destination, sibling.Destination }.Order(StringComparer.Ordinal), stored.Deliveries.Select(d => d.Destination));
        Assert.False((await ReadAsync<DeliveryState>(DeliveryGrainId(other), "delivery")).RecordExists);
    }

    [Fact]
    public async Task Clearing_a_delivery_state_keeps_its_row_and_audit()
    {
        var row = Row(Unique("msg"), Unique("billing"), DeliveryStatus.Delivered);
        var state = await WriteDeliveryAsync(row, null, Attempt(row, 1, BaseTime, AttemptOutcome.Success));

        await Storage.GrainStorage.ClearStateAsync("delivery", DeliveryGrainId(row), state);

        Assert.False((await ReadAsync<DeliveryState>(DeliveryGrainId(row), "delivery")).RecordExists);
        var message = await GetMessageAsync(row.MessageId);
        Assert.Single(message.Deliveries);
        Assert.Single(message.Audit);
    }

    [Fact]
    public async Task A_message_answers_every_delivery_and_its_audit_only_when_asked()
    {
        var messageId = Unique("msg");
        var billing = Row(messageId, Unique("billing"), DeliveryStatus.Delivered);
        var shipping = Row(messageId, Unique("shipping"), DeliveryStatus.InRetry);
        var shippingAttempt = Attempt(shipping, 1, BaseTime.AddSeconds(1));
        var billingAttempt = Attempt(billing, 1, BaseTime.AddSeconds(2), AttemptOutcome.Success);
        await WriteDeliveryAsync(billing, null, billingAttempt);
        await WriteDeliveryAsync(shipping, null, shippingAttempt);

        var withAudit = await GetMessageAsync(messageId);
        var withoutAudit = await GetMessageAsync(messageId, includeAudit: false);

        Assert.Equal(new[] { billing, shipping }.OrderBy(r => r.Destination, StringComparer.Ordinal), withAudit.Deliveries.OrderBy(r => r.Destination, StringComparer.Ordinal));
        Assert.Equal([shippingAttempt, billingAttempt], withAudit.Audit);
        Assert.Equal(2, withoutAudit.Deliveries.Count);
        Assert.Empty(withoutAudit.Audit);
        Assert.Null(await Storage.Store.GetMessageAsync(Unique("unknown"), includeAudit: true));
    }

    [Fact]
    public async Task Listing_pages_newest_first_with_a_cursor_until_the_last_page()
    {
        var destination = Unique("billing");
        // m3 and m4 share their acceptance time: the id orders them.
        var times = new[] { 0, 1, 2, 3, 3, 5, 6 };
        var rows = times.Select((t, i) => Row($"m{i}-{Guid.NewGuid():N}", destination, acceptedAt: BaseTime.AddSeconds(t))).ToArray();
        await Task.WhenAll(rows.Select(row => WriteDeliveryAsync(row)));
        var expected = rows
            .OrderByDescending(r => r.AcceptedAt)
            .ThenByDescending(r => r.MessageId, StringComparer.Ordinal)
            .Select(r => r.MessageId)
            .ToArray();

        var pages = await ListAllAsync(new MessageQuery { Destination = destination, Limit = 2 });

        Assert.Equal([2, 2, 2, 1], pages.Select(p => p.Items.Count));
        Assert.All(pages.SkipLast(1), p => Assert.NotNull(p.NextCursor));
        Assert.Null(pages[^1].NextCursor);
        Assert.Equal(expected, pages.SelectMany(p => p.Items).Select(m => m.MessageId));
    }

    [Fact]
    public async Task A_page_that_ends_exactly_at_the_last_message_has_no_cursor()
    {
        var destination = Unique("billing");
        await Task.WhenAll(Enumerable.Range(0, 3).Select(i => WriteDeliveryAsync(Row(Unique("msg"), destination, acceptedAt: BaseTime.AddSeconds(i)))));

        var page = await Storage.Store.ListMessagesAsync(new MessageQuery { Destination = destination, Limit = 3 });

        Assert.Equal(3, page.Items.Count);
        Assert.Null(page.NextCursor);
    }

    [Fact]
    public async Task Listing_matches_a_message_by_any_of_its_deliveries_and_answers_all_of_them()
    {
        var billing = Unique("billing");
        var shipping = Unique("shipping");
        var failed = Unique("failed");
        var delivered = Unique("delivered");
        await WriteDeliveryAsync(Row(failed, billing, DeliveryStatus.Delivered, BaseTime.AddSeconds(1)));
        await WriteDeliveryAsync(Row(failed, shipping, DeliveryStatus.DeadLettered, BaseTime.AddSeconds(1)));
        await WriteDeliveryAsync(Row(delivered, billing, DeliveryStatus.Delivered, BaseTime.AddSeconds(2)));
        await WriteDeliveryAsync(Row(delivered, shipping, DeliveryStatus.Delivered, BaseTime.AddSeconds(2)));

        var byDestination = await Storage.Store.ListMessagesAsync(new MessageQuery { Destination = shipping });
        Assert.Equal([delivered, failed], byDestination.Items.Select(m => m.MessageId));
        Assert.All(byDestination.Items, m => Assert.Equal(2, m.Deliveries.Count));

        var deadOnShipping = await Storage.Store.ListMessagesAsync(new MessageQuery { Destination = shipping, Status = DeliveryStatus.DeadLettered });
        var item = Assert.Single(deadOnShipping.Items);
        Assert.Equal(failed, item.MessageId);
        Assert.Equal(2, item.Deliveries.Count);
        Assert.Empty(item.Audit);

        // The same delivery must match both: billing's delivery of 'failed' is not dead-lettered.
        var deadOnBilling = await Storage.Store.ListMessagesAsync(new MessageQuery { Destination = billing, Status = DeliveryStatus.DeadLettered });
        Assert.Empty(deadOnBilling.Items);

        var dead = (await ListAllAsync(new MessageQuery { Status = DeliveryStatus.DeadLettered, Limit = 1000 })).SelectMany(p => p.Items).ToArray();
        Assert.Contains(dead, m => m.MessageId == failed);
        Assert.DoesNotContain(dead, m => m.MessageId == delivered);
        Assert.All(dead, m => Assert.Contains(m.Deliveries, d => d.Status == DeliveryStatus.DeadLettered));
    }

    [Fact]
    public async Task Listing_without_a_filter_answers_the_newest_messages_first()
    {
        // Later than anything else the suite writes, so these are the newest in the store.
        var future = new DateTimeOffset(2200, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var rows = Enumerable.Range(0, 3).Select(i => Row(Unique("msg"), Unique("billing"), acceptedAt: future.AddMinutes(i))).ToArray();
        await Task.WhenAll(rows.Select(row => WriteDeliveryAsync(row)));

        var page = await Storage.Store.ListMessagesAsync(new MessageQuery { Limit = 3 });

        Assert.Equal(rows.Reverse().Select(r => r.MessageId), page.Items.Select(m => m.MessageId));
        Assert.NotNull(page.NextCursor);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1001)]
    public async Task Listing_refuses_a_page_size_outside_1_to_1000(int limit)
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Storage.Store.ListMessagesAsync(new MessageQuery { Limit = limit }));
    }

    [Fact]
    public async Task Listing_refuses_a_cursor_it_did_not_hand_out()
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Storage.Store.ListMessagesAsync(new MessageQuery { Cursor = "not a cursor!" }));
    }

    [Fact]
    public async Task Due_deliveries_are_those_of_the_shard_range_due_by_now_earliest_first()
    {
        // A time window no other test uses.
        var now = new DateTimeOffset(1990, 6, 1, 12, 0, 0, TimeSpan.Zero);
        var destination = Unique("billing");
        DeliveryRow Due(int shard, int secondsFromNow) =>
            Row(MessageIdInShard(destination, shard), destination, DeliveryStatus.InRetry, now.AddDays(-1), now.AddSeconds(secondsFromNow));
        var dueLate = Due(shard: 10, secondsFromNow: -5);
        var dueEarly = Due(shard: 12, secondsFromNow: -50);
        var dueAtNow = Due(shard: 11, secondsFromNow: 0);
        var notYet = Due(shard: 11, secondsFromNow: 1);
        var otherShard = Due(shard: 13, secondsFromNow: -100);
        var belowRange = Due(shard: 9, secondsFromNow: -100);
        var nothingToDo = Row(MessageIdInShard(destination, 11), destination, DeliveryStatus.Delivered, now.AddDays(-1), dueAt: null);
        await Task.WhenAll(new[] { dueLate, dueEarly, dueAtNow, notYet, otherShard, belowRange, nothingToDo }.Select(r => WriteDeliveryAsync(r)));

        var due = await Storage.Store.GetDueDeliveriesAsync(10, 12, now, 100);
        var limited = await Storage.Store.GetDueDeliveriesAsync(10, 12, now, 2);

        DeliveryKey Key(DeliveryRow r) => new(r.Destination, r.MessageId);
        Assert.Equal([Key(dueEarly), Key(dueLate), Key(dueAtNow)], due);
        Assert.Equal([Key(dueEarly), Key(dueLate)], limited);
    }

    [Fact]
    public async Task Due_deliveries_of_held_destinations_are_left_out()
    {
        var now = new DateTimeOffset(1991, 6, 1, 12, 0, 0, TimeSpan.Zero);
        var held = Unique("paused");
        var open = Unique("open");
        var flowing = Unique("flowing");
        DeliveryRow Due(string destination) => Row(MessageIdInShard(destination, 20), destination, DeliveryStatus.InRetry, now.AddDays(-1), now.AddSeconds(-1));
        var rows = new[] { Due(held), Due(open), Due(flowing) };
        await Task.WhenAll(rows.Select(r => WriteDeliveryAsync(r)));

        var all = await Storage.Store.GetDueDeliveriesAsync(20, 20, now, 100);
        var some = await Storage.Store.GetDueDeliveriesAsync(20, 20, now, 100, [held, open]);

        Assert.Equal(3, all.Count(k => k.Destination == held || k.Destination == open || k.Destination == flowing));
        Assert.Equal([new DeliveryKey(flowing, rows[2].MessageId)], some.Where(k => k.Destination == held || k.Destination == open || k.Destination == flowing));
    }

    [Fact]
    public async Task Deliveries_are_found_by_status_and_destination()
    {
        var billing = Unique("billing");
        var shipping = Unique("shipping");
        var dead = Row(Unique("msg"), billing, DeliveryStatus.DeadLettered);
        await WriteDeliveryAsync(dead);
        await WriteDeliveryAsync(Row(Unique("msg"), billing, DeliveryStatus.Delivered));
        await WriteDeliveryAsync(Row(Unique("msg"), shipping, DeliveryStatus.DeadLettered));

        var found = await Storage.Store.FindDeliveriesAsync(DeliveryStatus.DeadLettered, billing, 100);
        var anywhere = await Storage.Store.FindDeliveriesAsync(DeliveryStatus.DeadLettered, null, 1000);

        Assert.Equal([new DeliveryKey(billing, dead.MessageId)], found);
        Assert.Contains(anywhere, k => k.Destination == shipping);
        Assert.Contains(anywhere, k => k.Destination == billing);
        Assert.Single(await Storage.Store.FindDeliveriesAsync(DeliveryStatus.DeadLettered, null, 1));
    }

    [Fact]
    public async Task A_keyset_walk_meets_each_matching_delivery_once_though_walked_ones_change_status_meanwhile()
    {
        var billing = Unique("billing");
        var ids = Enumerable.Range(0, 25).Select(i => $"walk-{i:D2}-{Guid.NewGuid():N}").Order(StringComparer.Ordinal).ToList();
        var eTags = new Dictionary<string, string?>();
        foreach (var id in ids)
        {
            eTags[id] = (await WriteDeliveryAsync(Row(id, billing, DeliveryStatus.DeadLettered))).ETag;
        }

        await WriteDeliveryAsync(Row(Unique("msg"), billing, DeliveryStatus.Delivered));
        var filter = new DeliveryFilter { Status = DeliveryStatus.DeadLettered, Destination = billing };
        var met = new List<string>();
        DeliveryKey? after = null;
        while (true)
        {
            var page = await Storage.Store.FindDeliveriesAsync(filter, after, 10);
            if (page.Count == 0)
            {
                break;
            }

            met.AddRange(page.Select(k => k.MessageId));
            after = page[^1];
            // What was walked is resubmitted and dead-lettered again at once: it is behind the cursor, not met again.
            foreach (var key in page)
            {
                await WriteDeliveryAsync(Row(key.MessageId, billing, DeliveryStatus.DeadLettered) with { Attempts = 2 }, eTags[key.MessageId]);
            }
        }

        Assert.Equal(ids, met);
        Assert.Equal(25, await Storage.Store.CountDeliveriesAsync(filter));
        Assert.Equal(1, await Storage.Store.CountDeliveriesAsync(filter with { Status = DeliveryStatus.Delivered }));
    }

    [Fact]
    public async Task A_keyset_walk_filters_by_topic_accepted_time_and_id_text()
    {
        var billing = Unique("billing");
        var topic = Unique("topic");
        var inTopic = Row(Unique("walk-a%_"), billing, DeliveryStatus.DeadLettered) with { Topic = topic, AcceptedAt = BaseTime.AddMinutes(5) };
        var early = Row(Unique("walk-a%_"), billing, DeliveryStatus.DeadLettered) with { Topic = topic, AcceptedAt = BaseTime };
        var other = Row(Unique("walk-b"), billing, DeliveryStatus.DeadLettered) with { Topic = topic, AcceptedAt = BaseTime.AddMinutes(5) };
        var noTopic = Row(Unique("walk-a%_"), billing, DeliveryStatus.DeadLettered) with { AcceptedAt = BaseTime.AddMinutes(5) };
        foreach (var row in new[] { inTopic, early, other, noTopic })
        {
            await WriteDeliveryAsync(row);
        }

        var filter = new DeliveryFilter
        {
            Status = DeliveryStatus.DeadLettered,
            Destination = billing,
            Topic = topic,
            AcceptedFrom = BaseTime.AddMinutes(1),
            AcceptedTo = BaseTime.AddMinutes(10),
            // '%' and '_' are matched as they are, not as wildcards.
            IdContains = "walk-a%_",
        };

        Assert.Equal([new DeliveryKey(billing, inTopic.MessageId)], await Storage.Store.FindDeliveriesAsync(filter, null, 100));
        Assert.Equal(1, await Storage.Store.CountDeliveriesAsync(filter));
        Assert.Empty(await Storage.Store.FindDeliveriesAsync(filter, new DeliveryKey(billing, inTopic.MessageId), 100));
    }

    [Fact]
    public async Task Deliveries_are_counted_per_destination_and_status()
    {
        var billing = Unique("billing");
        await WriteDeliveryAsync(Row(Unique("msg"), billing, DeliveryStatus.DeadLettered));
        await WriteDeliveryAsync(Row(Unique("msg"), billing, DeliveryStatus.DeadLettered));
        await WriteDeliveryAsync(Row(Unique("msg"), billing, DeliveryStatus.InRetry));

        var counts = (await Storage.Store.CountByDestinationAsync()).Where(c => c.Destination == billing).ToArray();

        Assert.Equal(2, counts.Length);
        Assert.Contains(new DestinationCount(billing, DeliveryStatus.DeadLettered, 2), counts);
        Assert.Contains(new DestinationCount(billing, DeliveryStatus.InRetry, 1), counts);
    }

    [Fact]
    public async Task Purging_removes_the_audit_older_than_the_cutoff_and_answers_how_many()
    {
        // A time window no other test uses.
        var old = new DateTimeOffset(1980, 1, 1, 0, 0, 0, TimeSpan.Zero);
        // Finished: the audit of a delivery not finished is kept (StorageConformanceTests.Retention).
        var row = Row(Unique("msg"), Unique("billing"), DeliveryStatus.Delivered, old);
        var entries = Enumerable.Range(1, 5).Select(i => Attempt(row, i, old.AddDays(i))).ToArray();
        await WriteDeliveryAsync(row, null, entries);

        var purged = await Storage.Store.PurgeAuditAsync(old.AddDays(3));

        Assert.Equal(2, purged);
        Assert.Equal(entries[2..], (await GetMessageAsync(row.MessageId)).Audit);
        Assert.Equal(0, await Storage.Store.PurgeAuditAsync(old.AddDays(3)));
    }

    [Fact]
    public async Task The_store_answers_a_ping()
    {
        Assert.True(await Storage.Store.PingAsync());
    }

    [Fact]
    public async Task The_store_accepts_the_health_checks_write_again_and_again_and_shows_it_nowhere()
    {
        var counts = await Storage.Store.CountByDestinationAsync();

        Assert.True(await Storage.Store.CheckWriteAsync());
        Assert.True(await Storage.Store.CheckWriteAsync());

        // A row of its own: no delivery, no message.
        Assert.Equal(counts, await Storage.Store.CountByDestinationAsync());
        Assert.Null(await Storage.Store.GetMessageAsync("~health", includeAudit: false));
        Assert.Null(await Storage.Store.GetMessageAsync("health", includeAudit: false));
    }

    private async Task<List<StoredMessagePage>> ListAllAsync(MessageQuery query)
    {
        var pages = new List<StoredMessagePage>();
        string? cursor = null;
        do
        {
            var page = await Storage.Store.ListMessagesAsync(query with { Cursor = cursor });
            pages.Add(page);
            cursor = page.NextCursor;
            Assert.True(pages.Count < 1000, "The listing does not end.");
        }
        while (cursor is not null);

        return pages;
    }
}
