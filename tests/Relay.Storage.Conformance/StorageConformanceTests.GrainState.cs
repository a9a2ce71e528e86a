using Orleans;
using Orleans.Storage;

namespace Relay.Storage.Conformance;

public abstract partial class StorageConformanceTests
{
    [Fact]
    public async Task A_written_state_reads_back_with_its_etag()
    {
        var grainId = NewGrainId();
        var written = await WriteAsync(grainId, new CounterState { Name = "orders", Count = 42, Items = ["a", "b"] });

        var read = await ReadAsync<CounterState>(grainId);

        Assert.True(read.RecordExists);
        Assert.NotNull(written.ETag);
        Assert.Equal(written.ETag, read.ETag);
        Assert.Equal("orders", read.State!.Name);
        Assert.Equal(42, read.State!.Count);
        Assert.Equal(["a", "b"], read.State!.Items);
    }

    [Fact]
    public async Task Reading_a_state_never_written_gives_a_default_state_without_etag()
    {
        var read = new GrainState<CounterState>(new CounterState { Count = 7 }, "stale");

        await Storage.GrainStorage.ReadStateAsync("state", NewGrainId(), read);

        Assert.False(read.RecordExists);
        Assert.Null(read.ETag);
        Assert.NotNull(read.State);
        Assert.Equal(0, read.State!.Count);
    }

    [Fact]
    public async Task States_of_one_grain_are_kept_apart_by_state_name()
    {
        var grainId = NewGrainId();
        await WriteAsync(grainId, new CounterState { Count = 1 }, stateName: "first");
        await WriteAsync(grainId, new CounterState { Count = 2 }, stateName: "second");

        Assert.Equal(1, (await ReadAsync<CounterState>(grainId, "first")).State!.Count);
        Assert.Equal(2, (await ReadAsync<CounterState>(grainId, "second")).State!.Count);
    }

    [Fact]
    public async Task Every_write_answers_a_new_etag()
    {
        var grainId = NewGrainId();
        var state = await WriteAsync(grainId, new CounterState { Count = 1 });
        var first = state.ETag;

        state.State!.Count = 2;
        await Storage.GrainStorage.WriteStateAsync("state", grainId, state);

        Assert.NotEqual(first, state.ETag);
        Assert.Equal(state.ETag, (await ReadAsync<CounterState>(grainId)).ETag);
    }

    [Fact]
    public async Task A_write_with_a_stale_etag_is_refused_and_changes_nothing()
    {
        var grainId = NewGrainId();
        var first = await WriteAsync(grainId, new CounterState { Count = 1 });
        var stale = first.ETag;
        var second = await WriteAsync(grainId, new CounterState { Count = 2 }, first.ETag);

        var refused = new GrainState<CounterState>(new CounterState { Count = 3 }, stale!);
        await Assert.ThrowsAsync<InconsistentStateException>(() => Storage.GrainStorage.WriteStateAsync("state", grainId, refused));

        var read = await ReadAsync<CounterState>(grainId);
        Assert.Equal(2, read.State!.Count);
        Assert.Equal(second.ETag, read.ETag);
    }

    [Fact]
    public async Task A_first_write_that_carries_an_etag_is_refused()
    {
        var grainId = NewGrainId();

        await Assert.ThrowsAsync<InconsistentStateException>(() => WriteAsync(grainId, new CounterState { Count = 1 }, "12345"));

        Assert.False((await ReadAsync<CounterState>(grainId)).RecordExists);
    }

    [Fact]
    public async Task A_write_without_etag_over_an_existing_state_is_refused()
    {
        var grainId = NewGrainId();
        await WriteAsync(grainId, new CounterState { Count = 1 });

        await Assert.ThrowsAsync<InconsistentStateException>(() => WriteAsync(grainId, new CounterState { Count = 2 }));

        Assert.Equal(1, (await ReadAsync<CounterState>(grainId)).State!.Count);
    }

    [Fact]
    public async Task A_cleared_state_reads_as_never_written_and_can_be_written_anew()
    {
        var grainId = NewGrainId();
        var state = await WriteAsync(grainId, new CounterState { Count = 1 });

        await Storage.GrainStorage.ClearStateAsync("state", grainId, state);

        Assert.Null(state.ETag);
        Assert.False(state.RecordExists);
        var read = await ReadAsync<CounterState>(grainId);
        Assert.False(read.RecordExists);
        Assert.Null(read.ETag);

        await WriteAsync(grainId, new CounterState { Count = 5 });
        Assert.Equal(5, (await ReadAsync<CounterState>(grainId)).State!.Count);
    }

    [Fact]
    public async Task Clearing_with_a_stale_etag_is_refused_and_keeps_the_state()
    {
        var grainId = NewGrainId();
        var first = await WriteAsync(grainId, new CounterState { Count = 1 });
        var stale = new GrainState<CounterState>(first.State, first.ETag!);
        await Storage.GrainStorage.WriteStateAsync("state", grainId, first);

        await Assert.ThrowsAsync<InconsistentStateException>(() => Storage.GrainStorage.ClearStateAsync("state", grainId, stale));

        Assert.True((await ReadAsync<CounterState>(grainId)).RecordExists);
    }

    [Fact]
    public async Task An_etag_from_before_a_clear_cannot_overwrite_the_state_written_after_it()
    {
        var grainId = NewGrainId();
        var old = await WriteAsync(grainId, new CounterState { Count = 1 });
        var oldETag = old.ETag!;
        await Storage.GrainStorage.ClearStateAsync("state", grainId, old);
        await WriteAsync(grainId, new CounterState { Count = 2 });

        await Assert.ThrowsAsync<InconsistentStateException>(() => WriteAsync(grainId, new CounterState { Count = 3 }, oldETag));

        Assert.Equal(2, (await ReadAsync<CounterState>(grainId)).State!.Count);
    }

    [Fact]
    public async Task Concurrent_writes_of_200_grains_all_land()
    {
        var grains = Enumerable.Range(0, 200).Select(_ => NewGrainId()).ToArray();

        await Task.WhenAll(grains.Select((grainId, i) => WriteAsync(grainId, new CounterState { Count = i })));

        for (var i = 0; i < grains.Length; i++)
        {
            var read = await ReadAsync<CounterState>(grains[i]);
            Assert.True(read.RecordExists);
            Assert.Equal(i, read.State!.Count);
        }
    }

    [Fact]
    public async Task Of_50_concurrent_writes_with_the_same_etag_exactly_one_wins()
    {
        var grainId = NewGrainId();
        var original = await WriteAsync(grainId, new CounterState { Count = -1 });
        var attempts = Enumerable.Range(0, 50)
            .Select(i => new GrainState<CounterState>(new CounterState { Count = i }, original.ETag!))
            .ToArray();

        var outcomes = await Task.WhenAll(attempts.Select(async attempt =>
        {
            try
            {
                await Storage.GrainStorage.WriteStateAsync("state", grainId, attempt);
                return (Won: true, Conflict: false);
            }
            catch (InconsistentStateException)
            {
                return (Won: false, Conflict: true);
            }
        }));

        Assert.Equal(1, outcomes.Count(o => o.Won));
        Assert.Equal(49, outcomes.Count(o => o.Conflict));
        var winner = attempts[Array.FindIndex(outcomes, o => o.Won)];
        var read = await ReadAsync<CounterState>(grainId);
        Assert.Equal(winner.State!.Count, read.State!.Count);
        Assert.Equal(winner.ETag, read.ETag);
    }

    [Fact]
    public async Task A_conflicting_write_among_concurrent_ones_fails_alone()
    {
        var contested = NewGrainId();
        var first = await WriteAsync(contested, new CounterState { Count = 1 });
        await WriteAsync(contested, new CounterState { Count = 2 }, first.ETag);
        var others = Enumerable.Range(0, 40).Select(_ => NewGrainId()).ToArray();

        var stale = WriteAsync(contested, new CounterState { Count = 3 }, first.ETag);
        var fine = others.Select(grainId => WriteAsync(grainId, new CounterState { Count = 9 })).ToArray();

        await Assert.ThrowsAsync<InconsistentStateException>(() => stale);
        await Task.WhenAll(fine);
        foreach (var grainId in others)
        {
            Assert.Equal(9, (await ReadAsync<CounterState>(grainId)).State!.Count);
        }
    }
}
