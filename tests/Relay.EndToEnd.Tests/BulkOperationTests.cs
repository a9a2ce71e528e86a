using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Relay.Testing;

namespace Relay.EndToEnd.Tests;

/// <summary>
/// Bulk resubmit and discard (issue 15, item 4): one walk of the whole filter with a keyset cursor, as a background
/// operation with progress, cancel, and a restart in the middle; on SQLite and PostgreSQL.
/// </summary>
public sealed class BulkOperationTests : IAsyncLifetime
{
    private const string Rejects = "/rejects";
    private TestDestination _destination = null!;
    private TestSilo? _silo;

    public async Task InitializeAsync()
    {
        _destination = await TestDestination.StartAsync();
        // A final failure at once: a resubmitted delivery is dead-lettered again within a scheduler poll.
        _destination.Answer(Rejects, new Reply(400, "no such account"));
    }

    public async Task DisposeAsync()
    {
        if (_silo is not null)
        {
            await _silo.DisposeAsync();
        }

        await _destination.DisposeAsync();
    }

    private async Task<TestSilo> StartSiloAsync(bool postgres, params (string Key, string Value)[] extra)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Relay:Destinations:rejects:Address"] = _destination.Url(Rejects),
            ["Relay:Destinations:rejects:SyncTimeout"] = "00:00:05",
            ["Relay:Samples:Enabled"] = "false",
        };
        if (postgres)
        {
            settings["Relay:Storage:Provider"] = "AdoNet";
            settings["Relay:Storage:ConnectionString"] = await (await PostgresServer.Shared).CreateDatabaseAsync();
            settings["Relay:Storage:Migrate"] = "true";
        }

        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        _silo = await TestSilo.StartAsync(settings);
        return _silo;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task One_bulk_resubmit_attempts_each_of_1500_dead_letters_again_exactly_once_though_they_fail_again_at_once(bool postgres)
    {
        var silo = await StartSiloAsync(postgres);
        var ids = await DeadLetterAsync(silo.Client, "once", 1500);
        var before = _destination.ReceivedAt(Rejects).Count;

        var response = await silo.Client.PostAsJsonAsync("/messages/resubmit", new { destination = "rejects" });
        var body = await TestSilo.ReadAsync(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1500, (int?)body["resubmitted"]);
        await WaitUntilSettledAsync(silo.Client, deadLettered: 1500);
        var again = _destination.ReceivedAt(Rejects).Skip(before).Select(r => r.Header("Idempotency-Key")!).ToList();
        Assert.Equal(ids.Order(StringComparer.Ordinal), again.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_background_resubmit_answers_202_with_its_location_and_reports_progress_until_Completed()
    {
        var silo = await StartSiloAsync(false, ("Relay:Operations:MaxPerSecond", "600"));
        var ids = await DeadLetterAsync(silo.Client, "progress", 600);
        var before = _destination.ReceivedAt(Rejects).Count;

        using var request = new HttpRequestMessage(HttpMethod.Post, "/messages/resubmit") { Content = JsonContent.Create(new { destination = "rejects" }) };
        request.Headers.Add("Prefer", "respond-async");
        var response = await silo.Client.SendAsync(request);
        var started = await TestSilo.ReadAsync(response);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var location = response.Headers.Location!.ToString();
        Assert.Equal($"/operations/{(string?)started["id"]}", location);
        Assert.Equal("Resubmit", (string?)started["action"]);
        Assert.Equal(600, (long?)started["total"]);
        var snapshots = new List<JsonNode>();
        var done = await Eventually.Until(async () =>
        {
            var snapshot = await TestSilo.ReadAsync(await silo.Client.GetAsync(location));
            snapshots.Add(snapshot);
            return snapshot;
        }, s => (string?)s["state"] == "Completed", TimeSpan.FromSeconds(60), "the operation completed");
        Assert.Equal(600, (long?)done["done"]);
        Assert.Equal(0, (long?)done["failed"]);
        Assert.NotNull((string?)done["completedAt"]);
        // Progress was visible on the way: a running snapshot part of the way through.
        Assert.Contains(snapshots, s => (string?)s["state"] == "Running" && (long?)s["done"] is > 0 and < 600);
        var list = await TestSilo.ReadAsync(await silo.Client.GetAsync("/operations"));
        Assert.Contains(list["items"]!.AsArray(), o => (string?)o!["id"] == (string?)started["id"]);
        await WaitUntilSettledAsync(silo.Client, deadLettered: 600);
        Assert.Equal(ids.Order(StringComparer.Ordinal), _destination.ReceivedAt(Rejects).Skip(before).Select(r => r.Header("Idempotency-Key")!).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_cancelled_resubmit_stops_and_leaves_the_rest_dead_lettered()
    {
        var silo = await StartSiloAsync(false, ("Relay:Operations:MaxPerSecond", "100"));
        await DeadLetterAsync(silo.Client, "cancel", 1000);
        var before = _destination.ReceivedAt(Rejects).Count;

        using var request = new HttpRequestMessage(HttpMethod.Post, "/messages/resubmit") { Content = JsonContent.Create(new { destination = "rejects" }) };
        request.Headers.Add("Prefer", "respond-async");
        var response = await silo.Client.SendAsync(request);
        var location = response.Headers.Location!.ToString();
        await Eventually.Until(async () => await TestSilo.ReadAsync(await silo.Client.GetAsync(location)), s => (long?)s["done"] > 0, what: "under way");

        var cancel = await silo.Client.PostAsync(location + "/cancel", null);
        var cancelled = await TestSilo.ReadAsync(cancel);

        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        Assert.Equal("Cancelled", (string?)cancelled["state"]);
        var doneAtCancel = (long)cancelled["done"]!;
        Assert.InRange(doneAtCancel, 1, 999);
        await WaitUntilSettledAsync(silo.Client, deadLettered: 1000);
        var after = await TestSilo.ReadAsync(await silo.Client.GetAsync(location));
        Assert.Equal("Cancelled", (string?)after["state"]);
        Assert.Equal(doneAtCancel, (long?)after["done"]);
        Assert.Equal(doneAtCancel, _destination.ReceivedAt(Rejects).Count - before);
        var again = await silo.Client.PostAsync(location + "/cancel", null);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }

    [Fact]
    public async Task A_background_discard_discards_every_dead_letter_of_the_filter()
    {
        var silo = await StartSiloAsync(false);
        var ids = await DeadLetterAsync(silo.Client, "discard", 700);

        var response = await silo.Client.PostAsJsonAsync("/messages/discard", new { destination = "rejects" });
        var body = await TestSilo.ReadAsync(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(700, (int?)body["discarded"]);
        var counts = await CountsAsync(silo.Client);
        Assert.Equal(700, counts.Discarded);
        Assert.Equal(0, counts.DeadLettered);
        Assert.Equal("Discarded", (string?)(await silo.GetMessageAsync(ids[0]))!["deliveries"]![0]!["status"]);
    }

    [Fact]
    public async Task An_unknown_operation_answers_404()
    {
        var silo = await StartSiloAsync(false);

        Assert.Equal(HttpStatusCode.NotFound, (await silo.Client.GetAsync($"/operations/{Guid.NewGuid():N}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await silo.Client.GetAsync("/operations/not-an-id")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await silo.Client.PostAsync($"/operations/{Guid.NewGuid():N}/cancel", null)).StatusCode);
    }

    /// <summary>Sends <paramref name="count"/> messages to the rejecting destination; each is dead-lettered at its first attempt.</summary>
    internal static async Task<List<string>> DeadLetterAsync(HttpClient client, string prefix, int count)
    {
        var ids = Enumerable.Range(0, count).Select(i => $"{prefix}-{i:D5}").ToList();
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (id, _) =>
        {
            var response = await client.PostAsJsonAsync("/messages", new { id, destination = "rejects", payload = "p" });
            var body = await TestSilo.ReadAsync(response);
            Assert.Equal("DeadLettered", (string?)body["status"]);
        });
        return ids;
    }

    internal static async Task<(long DeadLettered, long InRetry, long Pending, long Discarded)> CountsAsync(HttpClient client)
    {
        var list = await TestSilo.ReadAsync(await client.GetAsync("/destinations"));
        var rejects = list["items"]!.AsArray().Single(d => (string?)d!["name"] == "rejects")!;
        return ((long)rejects["deadLettered"]!, (long)rejects["inRetry"]!, (long)rejects["pending"]!, (long)rejects["discarded"]!);
    }

    /// <summary>Waits until every resubmitted delivery was attempted and dead-lettered again.</summary>
    internal static Task WaitUntilSettledAsync(HttpClient client, long deadLettered) =>
        Eventually.Until(() => CountsAsync(client), c => c.DeadLettered == deadLettered && c.InRetry == 0 && c.Pending == 0,
            TimeSpan.FromSeconds(90), $"{deadLettered} dead-lettered again, none in retry");
}
