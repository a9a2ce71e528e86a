using Relay.Contracts;
using Relay.Core.Storage;
using Relay.Grains.Delivery;

namespace Relay.Storage.Conformance;

/// <summary>A delivery's content (payload, content type, headers) is stored apart, and written only when it changed.</summary>
public abstract partial class StorageConformanceTests
{
    private const int LargePayload = 64 * 1024;

    [Fact]
    public async Task A_delivery_s_content_is_stored_once_and_an_attempt_writes_a_small_row()
    {
        var row = Row(Unique("msg"), Unique("billing"));
        var grainId = DeliveryGrainId(row);
        var payload = new byte[LargePayload];
        Random.Shared.NextBytes(payload);
        var state = DeliveryStateOf(row);
        state.Payload = payload;
        state.Headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["X-Order"] = "42" };

        var written = await WriteAsync(grainId, state, stateName: "delivery");
        var (dataAtAcceptance, contentAtAcceptance) = await StoredSizesAsync(grainId, "delivery");
        Assert.True(contentAtAcceptance >= LargePayload, $"The content row holds {contentAtAcceptance} bytes.");
        Assert.True(dataAtAcceptance < 4096, $"The state row holds {dataAtAcceptance} bytes: the payload went into it.");

        // An attempt, as the grain writes it: its content stored (the grain's holder clears the flag), its status changed.
        state.ContentUnsaved = false;
        state.Status = DeliveryStatus.InRetry;
        state.Attempts = 1;
        state.ResponseStatusCode = 503;
        state.PendingAudit.Add(Attempt(row, 1, BaseTime.AddSeconds(1)));
        var serialized = Storage.Serializer is IStateContentSerializer split ? split.SerializeParts(state) : default;
        Assert.Null(serialized.Content);
        await WriteAsync(grainId, state, written.ETag, "delivery");

        var (dataAfterAttempt, contentAfterAttempt) = await StoredSizesAsync(grainId, "delivery");
        Assert.True(dataAfterAttempt < 4096, $"The state row holds {dataAfterAttempt} bytes after an attempt.");
        Assert.Equal(contentAtAcceptance, contentAfterAttempt);
        var read = await ReadAsync<DeliveryState>(grainId, "delivery");
        Assert.Equal(payload, read.State!.Payload);
        Assert.Equal("42", read.State.Headers["x-order"]);
        Assert.Equal("application/json", read.State.ContentType);
        Assert.Equal(DeliveryStatus.InRetry, read.State.Status);
        Assert.Equal(1, read.State.Attempts);
        Assert.False(read.State.ContentUnsaved);
    }

    [Fact]
    public async Task An_edited_payload_is_stored_with_the_write_that_edits_it()
    {
        var row = Row(Unique("msg"), Unique("billing"), DeliveryStatus.DeadLettered);
        var grainId = DeliveryGrainId(row);
        var written = await WriteAsync(grainId, DeliveryStateOf(row), stateName: "delivery");
        var read = await ReadAsync<DeliveryState>(grainId, "delivery");

        // An operator's resubmit with an edited payload.
        read.State!.Payload = "{\"order\":\"edited\"}"u8.ToArray();
        read.State.Status = DeliveryStatus.Pending;
        Assert.True(read.State.ContentUnsaved);
        await WriteAsync(grainId, read.State, read.ETag, "delivery");

        var again = await ReadAsync<DeliveryState>(grainId, "delivery");
        Assert.Equal("{\"order\":\"edited\"}"u8.ToArray(), again.State!.Payload);
        Assert.Equal(DeliveryStatus.Pending, again.State.Status);
        Assert.NotEqual(written.ETag, again.ETag);
    }

    [Fact]
    public void A_delivery_state_stored_whole_reads_back_whole_and_its_next_write_stores_its_content_apart()
    {
        // States written before contents were kept apart hold their content in their data.
        var split = Assert.IsAssignableFrom<IStateContentSerializer>(Storage.Serializer);
        var row = Row(Unique("msg"), Unique("billing"), DeliveryStatus.InRetry);
        var whole = Storage.Serializer.Serialize(DeliveryStateOf(row)).ToArray();

        var read = split.Deserialize<DeliveryState>(whole, content: null)!;

        Assert.Equal(DeliveryStateOf(row).Payload, read.Payload);
        Assert.Equal(row.MessageId, read.MessageId);
        Assert.True(read.ContentUnsaved);
        var parts = split.SerializeParts(read);
        Assert.NotNull(parts.Content);
        Assert.Empty(split.Deserialize<DeliveryState>(parts.Data, content: null)!.Payload);
        Assert.Equal(read.Payload, split.Deserialize<DeliveryState>(parts.Data, parts.Content)!.Payload);
    }

    [Fact]
    public async Task A_state_without_content_is_stored_in_one_row()
    {
        var grainId = NewGrainId();
        await WriteAsync(grainId, new CounterState { Name = "c", Count = 3 });

        var (data, content) = await StoredSizesAsync(grainId, "state");

        Assert.True(data > 0);
        Assert.Null(content);
        Assert.Equal(3, (await ReadAsync<CounterState>(grainId)).State!.Count);
    }
}
