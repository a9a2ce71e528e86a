using Relay.Contracts;
using Relay.Core.Storage;
using Relay.Grains.Delivery;

namespace Relay.Storage.Conformance;

/// <summary>Retention: what the purges remove (finished deliveries and their audit) and what they keep (the rest).</summary>
public abstract partial class StorageConformanceTests
{
    /// <summary>Whether a content row of the state is stored (read with SQL: a state read cannot tell an orphan).</summary>
    protected abstract Task<bool> ContentRowExistsAsync(Orleans.Runtime.GrainId grainId, string stateName);

    [Fact]
    public async Task Purging_the_audit_keeps_the_trail_of_deliveries_not_finished_whatever_its_age()
    {
        // A time window no other test uses.
        var old = new DateTimeOffset(1971, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var destination = Unique("billing");
        var rows = new Dictionary<DeliveryStatus, DeliveryRow>();
        foreach (var status in (DeliveryStatus[])[DeliveryStatus.Pending, DeliveryStatus.InRetry, DeliveryStatus.DeadLettered,
                     DeliveryStatus.Delivered, DeliveryStatus.Discarded])
        {
            rows[status] = Row(Unique("msg"), destination, status, old);
            await WriteDeliveryAsync(rows[status], null, Attempt(rows[status], 1, old.AddHours(1)), Attempt(rows[status], 2, old.AddHours(2)));
        }

        var purged = await Storage.Store.PurgeAuditAsync(old.AddDays(1));

        Assert.Equal(4, purged);
        foreach (var status in (DeliveryStatus[])[DeliveryStatus.Pending, DeliveryStatus.InRetry, DeliveryStatus.DeadLettered])
        {
            Assert.Equal(2, (await GetMessageAsync(rows[status].MessageId)).Audit.Count);
        }

        Assert.Empty((await GetMessageAsync(rows[DeliveryStatus.Delivered].MessageId)).Audit);
        Assert.Empty((await GetMessageAsync(rows[DeliveryStatus.Discarded].MessageId)).Audit);
    }

    [Fact]
    public async Task Purging_finished_deliveries_removes_their_state_payload_row_and_audit_and_keeps_the_rest()
    {
        // After the window of the audit purge's test (1980), whose cutoff must not reach these entries.
        var old = new DateTimeOffset(1985, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var cutoff = old.AddDays(7);
        var destination = Unique("billing");
        var delivered = Row(Unique("msg"), destination, DeliveryStatus.Delivered, old);
        var discarded = Row(Unique("msg"), destination, DeliveryStatus.Discarded, old);
        var deadLettered = Row(Unique("msg"), destination, DeliveryStatus.DeadLettered, old);
        // Delivered, but still owing its notification (the outbox): kept until it is handed over.
        var owing = Row(Unique("msg"), destination, DeliveryStatus.Delivered, old) with { DueAt = old.AddSeconds(10) };
        // Delivered recently: kept.
        var recent = Row(Unique("msg"), destination, DeliveryStatus.Delivered, old) with { UpdatedAt = cutoff.AddSeconds(1) };
        // One message to two destinations: delivered to one long ago, still dead-lettered at the other: kept whole.
        var shared = Unique("msg");
        var sharedDelivered = Row(shared, destination, DeliveryStatus.Delivered, old);
        var sharedDeadLettered = Row(shared, Unique("shipping"), DeliveryStatus.DeadLettered, old);
        var all = new[] { delivered, discarded, deadLettered, owing, recent, sharedDelivered, sharedDeadLettered };
        foreach (var row in all)
        {
            await WriteDeliveryAsync(row, null, Attempt(row, 1, old.AddHours(1)));
        }

        var removed = await Storage.Store.PurgeFinishedDeliveriesAsync(cutoff);

        // At least these two: the store is shared with the other tests, whose finished deliveries may be older still.
        Assert.True(removed >= 2, $"{removed} removed");
        foreach (var row in (DeliveryRow[])[delivered, discarded])
        {
            Assert.Null(await Storage.Store.GetMessageAsync(row.MessageId, includeAudit: true));
            Assert.False((await ReadAsync<DeliveryState>(DeliveryGrainId(row), "delivery")).RecordExists);
            Assert.False(await ContentRowExistsAsync(DeliveryGrainId(row), "delivery"));
        }

        foreach (var row in (DeliveryRow[])[deadLettered, owing, recent, sharedDelivered, sharedDeadLettered])
        {
            var message = await GetMessageAsync(row.MessageId);
            Assert.Contains(message.Deliveries, d => d.Destination == row.Destination && d.Status == row.Status);
            Assert.Contains(message.Audit, a => a.Destination == row.Destination);
            var state = await ReadAsync<DeliveryState>(DeliveryGrainId(row), "delivery");
            Assert.True(state.RecordExists);
            Assert.NotEmpty(state.State!.Payload);
        }

        Assert.Equal(0, await Storage.Store.PurgeFinishedDeliveriesAsync(cutoff));
    }

    [Fact]
    public async Task A_message_id_whose_finished_delivery_was_purged_can_be_stored_again()
    {
        var old = new DateTimeOffset(1975, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var row = Row(Unique("msg"), Unique("billing"), DeliveryStatus.Delivered, old);
        await WriteDeliveryAsync(row, null, Attempt(row, 1, old.AddHours(1), AttemptOutcome.Success));
        Assert.True(await Storage.Store.PurgeFinishedDeliveriesAsync(old.AddDays(1)) >= 1);

        var again = row with { Status = DeliveryStatus.Pending, AcceptedAt = BaseTime, UpdatedAt = BaseTime, ContentHash = "sha256:other" };
        await WriteDeliveryAsync(again);

        Assert.Equal(again, Assert.Single((await GetMessageAsync(row.MessageId)).Deliveries));
    }
}
