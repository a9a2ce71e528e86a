namespace Relay.EndToEnd.Tests;

/// <summary>Messages of one ordering key to one destination go out strictly in the order accepted.</summary>
public sealed class OrderingTests : RelayFixture
{
    private IReadOnlyList<string> Arrived(string prefix) =>
        Destination.ReceivedAt("/silent").Select(r => r.Text).Where(t => t.StartsWith(prefix, StringComparison.Ordinal)).ToList();

    private Task<HttpResponseMessage> SendAsync(string id, string key, string? contract = null) =>
        Silo.SendAsync(new { id, destination = "silent", payload = id, orderingKey = key, contract = contract ?? "patient", notify = "none" });

    [Fact]
    public async Task A_failing_head_holds_its_key_back_while_other_keys_and_unordered_messages_flow()
    {
        // Key A goes to billing, whose first two answers are 503; key B and an unordered message go elsewhere.
        Destination.Script("/bill", Reply.Status503, Reply.Status503);
        object ToBilling(string id) => new { id, destination = "billing", payload = id, orderingKey = "A", contract = "patient", notify = "none" };
        var (head, headBody) = await Silo.SendAndReadAsync(ToBilling("a1"));
        var (second, secondBody) = await Silo.SendAndReadAsync(ToBilling("a2"));
        await Silo.SendAsync(ToBilling("a3"));
        var other = await SendAsync("b1", "B");
        var unordered = await Silo.SendAsync(new { id = "u1", destination = "silent", payload = "u1", notify = "none" });

        Assert.Equal(HttpStatusCode.Accepted, head.StatusCode);
        Assert.Equal("InRetry", (string?)headBody["status"]);
        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        Assert.Equal("Pending", (string?)secondBody["status"]);
        Assert.Equal(0, (int?)secondBody["deliveries"]![0]!["attempts"]);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.Equal(HttpStatusCode.OK, unordered.StatusCode);

        await Silo.WaitForStatusAsync("a3", "Delivered");
        Assert.Equal(["a1", "a1", "a1", "a2", "a3"], Destination.ReceivedAt("/bill").Select(r => r.Text));
    }

    [Fact]
    public async Task A_dead_lettered_head_holds_the_rest_until_it_is_resubmitted_and_goes_first()
    {
        Destination.Script("/silent", new Reply(400, "bad"));
        await SendAsync("d1", "D");
        await SendAsync("d2", "D");
        await SendAsync("d3", "D");
        Assert.Equal("DeadLettered", (string?)(await Silo.GetMessageAsync("d1"))!["status"]);
        Assert.Equal("Pending", (string?)(await Silo.GetMessageAsync("d2"))!["status"]);

        var resubmit = await Silo.Client.PostAsJsonAsync("/messages/d1/resubmit", new { payload = "d1-fixed" });
        Assert.Equal(HttpStatusCode.OK, resubmit.StatusCode);

        await Silo.WaitForStatusAsync("d3", "Delivered");
        Assert.Equal(["d1", "d1-fixed", "d2", "d3"], Arrived("d"));
    }

    [Fact]
    public async Task Discarding_a_dead_lettered_head_releases_the_next()
    {
        Destination.Script("/silent", new Reply(400, "bad"));
        await SendAsync("x1", "X");
        await SendAsync("x2", "X");
        Assert.Equal("Pending", (string?)(await Silo.GetMessageAsync("x2"))!["status"]);

        await Silo.Client.PostAsync("/messages/x1/discard", null);

        await Silo.WaitForStatusAsync("x2", "Delivered");
        Assert.Equal(["x1", "x2"], Arrived("x"));
    }

    [Fact]
    public async Task Many_interleaved_keys_each_arrive_in_acceptance_order()
    {
        // Every third attempt fails: heads go into retry now and then, holding only their own key.
        var n = 0;
        Destination.AnswerAll(Reply.Ok());
        Destination.Answer("/silent", Reply.Ok());
        for (var i = 0; i < 30; i++)
        {
            if (Interlocked.Increment(ref n) % 3 == 0)
            {
                Destination.Script("/silent", Reply.Status503);
            }

            await SendAsync($"k{i % 3}-{i / 3:00}", $"K{i % 3}");
        }

        for (var k = 0; k < 3; k++)
        {
            await Silo.WaitForStatusAsync($"k{k}-09", "Delivered");
        }

        // Each of the ten 503s made one message arrive once more, right after itself: 40 requests in all.
        Assert.Equal(40, Arrived("k").Count);
        for (var k = 0; k < 3; k++)
        {
            // The exact sequence, retries included: a message's attempts form one run, and no message of the key
            // arrives before the run of the one before it has ended with its success.
            Assert.Equal(Enumerable.Range(0, 10).Select(i => $"k{k}-{i:00}"), Runs(Arrived($"k{k}-")));
        }
    }

    /// <summary>The sequence with each run of repeats (a message's retries) made one: a1 a1 a2 a1 → a1 a2 a1.</summary>
    internal static List<string> Runs(IEnumerable<string> arrivals)
    {
        var runs = new List<string>();
        foreach (var arrival in arrivals)
        {
            if (runs.Count == 0 || runs[^1] != arrival)
            {
                runs.Add(arrival);
            }
        }

        return runs;
    }
}

/// <summary>Ordering across a kill -9 of the silo process.</summary>
public sealed class OrderingCrashTests : IAsyncLifetime
{
    private readonly string _workDir = TempFolder.Create("relay-ordering-");
    private TestDestination _destination = null!;

    public async Task InitializeAsync() => _destination = await TestDestination.StartAsync();

    public async Task DisposeAsync()
    {
        await _destination.DisposeAsync();
        TempFolder.Delete(_workDir);
    }

    [Fact]
    public async Task The_order_of_a_key_holds_across_a_kill_9_and_a_restart()
    {
        string[] args =
        [
            "--Relay:Scheduler:PollInterval=00:00:00.100",
            "--Relay:Contracts:steady:MaxAttempts=100",
            "--Relay:Contracts:steady:Delay=00:00:00.300",
            $"--Relay:Destinations:orders:Address={_destination.Url("/orders")}",
            "--Relay:Destinations:orders:Contract=steady",
            "--Relay:Samples:Enabled=false",
        ];
        _destination.Answer("/orders", Reply.Status503);
        await using (var silo = await SiloProcess.StartAsync(_workDir, args))
        {
            for (var i = 1; i <= 5; i++)
            {
                var response = await silo.Client.PostAsJsonAsync("/messages", new { id = $"o{i}", destination = "orders", payload = $"o{i}", orderingKey = "customer-42" });
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            }

            await Eventually.Until(() => _destination.ReceivedAt("/orders").Count >= 3, what: "the head retried");
            await silo.KillAsync();
        }

        var before = _destination.ReceivedAt("/orders").Count;
        Assert.All(_destination.ReceivedAt("/orders"), r => Assert.Equal("o1", r.Text));
        _destination.Answer("/orders", Reply.Ok());
        await using var restarted = await SiloProcess.StartAsync(_workDir, args);
        await Eventually.Until(async () =>
        {
            using var response = await restarted.Client.GetAsync("/messages/o5");
            return response.IsSuccessStatusCode ? (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["status"] : null;
        }, s => s == "Delivered", TimeSpan.FromSeconds(60), "o5 delivered");

        // The exact sequence: o1's failed attempts, its success after the restart, then each of the others once
        // (every answer is 200 by then); a successor sent before o1 succeeded would show as o1 again after it.
        var arrivals = _destination.ReceivedAt("/orders").Select(r => r.Text).ToList();
        var headAttempts = arrivals.TakeWhile(t => t == "o1").Count();
        Assert.True(headAttempts > before, $"o1 was attempted {headAttempts} times in all, {before} of them before the kill");
        Assert.Equal([.. Enumerable.Repeat("o1", headAttempts), "o2", "o3", "o4", "o5"], arrivals);
    }
}
