using Orleans;
using Orleans.Runtime;

namespace Relay.Storage.Conformance;

public abstract partial class StorageConformanceTests
{
    private static ReminderEntry Reminder(GrainId grainId, string name = "tick", int periodMinutes = 1) => new()
    {
        GrainId = grainId,
        ReminderName = name,
        StartAt = new DateTime(2026, 11, 23, 10, 0, 0, DateTimeKind.Utc),
        Period = TimeSpan.FromMinutes(periodMinutes),
    };

    [Fact]
    public async Task An_upserted_reminder_reads_back_by_grain_and_by_name()
    {
        var grainId = NewGrainId("reminder");
        var eTag = await Storage.Reminders.UpsertRow(Reminder(grainId, "a"));
        await Storage.Reminders.UpsertRow(Reminder(grainId, "b", periodMinutes: 5));

        var row = await Storage.Reminders.ReadRow(grainId, "a");
        Assert.NotNull(row);
        Assert.Equal(grainId, row.GrainId);
        Assert.Equal("a", row.ReminderName);
        Assert.Equal(new DateTime(2026, 11, 23, 10, 0, 0, DateTimeKind.Utc), row.StartAt);
        Assert.Equal(DateTimeKind.Utc, row.StartAt.Kind);
        Assert.Equal(TimeSpan.FromMinutes(1), row.Period);
        Assert.Equal(eTag, row.ETag);

        var rows = await Storage.Reminders.ReadRows(grainId);
        Assert.Equal(["a", "b"], rows.Reminders.Select(r => r.ReminderName).Order());
        Assert.Equal(TimeSpan.FromMinutes(5), rows.Reminders.Single(r => r.ReminderName == "b").Period);
    }

    [Fact]
    public async Task Reading_a_reminder_never_written_gives_null()
    {
        Assert.Null(await Storage.Reminders.ReadRow(NewGrainId("reminder"), "none"));
        Assert.Empty((await Storage.Reminders.ReadRows(NewGrainId("reminder"))).Reminders);
    }

    [Fact]
    public async Task Upserting_a_reminder_again_replaces_it_with_a_new_etag()
    {
        var grainId = NewGrainId("reminder");
        var first = await Storage.Reminders.UpsertRow(Reminder(grainId, periodMinutes: 1));
        var second = await Storage.Reminders.UpsertRow(Reminder(grainId, periodMinutes: 2));

        Assert.NotEqual(first, second);
        var row = await Storage.Reminders.ReadRow(grainId, "tick");
        Assert.Equal(TimeSpan.FromMinutes(2), row!.Period);
        Assert.Equal(second, row.ETag);
        Assert.Single((await Storage.Reminders.ReadRows(grainId)).Reminders);
    }

    [Fact]
    public async Task Removing_a_reminder_needs_its_current_etag()
    {
        var grainId = NewGrainId("reminder");
        var old = await Storage.Reminders.UpsertRow(Reminder(grainId));
        var current = await Storage.Reminders.UpsertRow(Reminder(grainId));

        Assert.False(await Storage.Reminders.RemoveRow(grainId, "tick", old!));
        Assert.False(await Storage.Reminders.RemoveRow(grainId, "tick", "not-an-etag"));
        Assert.NotNull(await Storage.Reminders.ReadRow(grainId, "tick"));

        Assert.True(await Storage.Reminders.RemoveRow(grainId, "tick", current!));
        Assert.Null(await Storage.Reminders.ReadRow(grainId, "tick"));
        Assert.False(await Storage.Reminders.RemoveRow(grainId, "tick", current!));
    }

    [Fact]
    public async Task A_range_read_takes_the_hashes_above_begin_up_to_and_including_end()
    {
        var (grains, hashes) = await UpsertRemindersOfManyGrainsAsync();
        uint begin = hashes[5], end = hashes[20];

        var found = await ReadMineAsync(begin, end, grains);

        var expected = grains.Where(g => g.GetUniformHashCode() > begin && g.GetUniformHashCode() <= end).ToHashSet();
        Assert.Equal(15, expected.Count);
        Assert.Equal(expected.OrderBy(g => g.ToString()), found.OrderBy(g => g.ToString()));
    }

    [Fact]
    public async Task A_range_read_wraps_around_when_begin_is_not_below_end()
    {
        var (grains, hashes) = await UpsertRemindersOfManyGrainsAsync();
        uint begin = hashes[25], end = hashes[4];

        var found = await ReadMineAsync(begin, end, grains);

        var expected = grains.Where(g => g.GetUniformHashCode() > begin || g.GetUniformHashCode() <= end).ToHashSet();
        Assert.Equal(9, expected.Count);
        Assert.Equal(expected.OrderBy(g => g.ToString()), found.OrderBy(g => g.ToString()));

        // begin == end is the whole ring.
        Assert.Equal(grains.Count, (await ReadMineAsync(hashes[10], hashes[10], grains)).Count);
    }

    private async Task<(HashSet<GrainId> Grains, uint[] SortedHashes)> UpsertRemindersOfManyGrainsAsync()
    {
        var grains = new HashSet<GrainId>();
        while (grains.Count < 30)
        {
            var grainId = NewGrainId("reminder");
            // Distinct hashes keep the expected counts exact.
            if (grains.All(g => g.GetUniformHashCode() != grainId.GetUniformHashCode()))
            {
                grains.Add(grainId);
            }
        }

        await Task.WhenAll(grains.Select(g => Storage.Reminders.UpsertRow(Reminder(g))));
        return (grains, grains.Select(g => g.GetUniformHashCode()).Order().ToArray());
    }

    private async Task<List<GrainId>> ReadMineAsync(uint begin, uint end, HashSet<GrainId> mine)
    {
        var rows = await Storage.Reminders.ReadRows(begin, end);
        return rows.Reminders.Select(r => r.GrainId).Where(mine.Contains).ToList();
    }
}
