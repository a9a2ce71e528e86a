namespace Relay.Silo.Tests;

/// <summary>One silo holding a dead-lettered message (<c>dead-1</c>) and a delivered one (<c>done-1</c>).</summary>
public sealed class OperatorSilo : SiloFixture
{
    protected override SiloSettings Configure()
    {
        Destination.Answer("/reject", new Reply(400, "no"));
        return new SiloSettings
        {
            ["Relay:Limits:MaxPayloadBytes"] = "1024",
        }
            .Contract("quick", 2)
            .Destination("rejecting", Destination.Url("/reject"), "quick")
            .Destination("accepting", Destination.Url("/accept"), "quick");
    }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var (dead, deadBody) = await Silo.SendAndReadAsync(new { id = "dead-1", destination = "rejecting", payload = "x" });
        var (done, doneBody) = await Silo.SendAndReadAsync(new { id = "done-1", destination = "accepting", payload = "x" });
        if ((string?)deadBody["status"] != "DeadLettered" || (string?)doneBody["status"] != "Delivered")
        {
            throw new InvalidOperationException($"Setup failed: {(int)dead.StatusCode} {deadBody.ToJsonString()} / {(int)done.StatusCode} {doneBody.ToJsonString()}");
        }
    }
}

/// <summary>Bad input on the reading and operating endpoints: problem+json with the right status, and nothing changes.</summary>
public sealed class ReadAndOperatorBadInputTests(OperatorSilo fixture) : IClassFixture<OperatorSilo>
{
    private TestSilo Silo => fixture.Silo;

    [Theory]
    [InlineData("status=Bogus")]
    [InlineData("status=3")]
    [InlineData("limit=0")]
    [InlineData("limit=5000")]
    [InlineData("limit=-1")]
    [InlineData("limit=ten")]
    [InlineData("cursor=garbage!!")]
    [InlineData("cursor=bm90LWEtY3Vyc29y")]
    public async Task A_bad_listing_query_is_400(string query)
    {
        await ProblemAssert.IsProblemAsync(Silo.Client.GetAsync("/messages?" + query), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Resubmitting_an_unknown_message_is_404()
    {
        await ProblemAssert.IsProblemAsync(Silo.Client.PostAsync("/messages/no-such-message/resubmit", null), HttpStatusCode.NotFound);

        await ProblemAssert.NotStoredAsync(Silo, "no-such-message");
    }

    [Fact]
    public async Task Discarding_an_unknown_message_is_404()
    {
        await ProblemAssert.IsProblemAsync(Silo.Client.PostAsync("/messages/no-such-message/discard", null), HttpStatusCode.NotFound);

        await ProblemAssert.NotStoredAsync(Silo, "no-such-message");
    }

    [Theory]
    [InlineData("""{"contract":"nope"}""", 400)]
    [InlineData("""{"contract":"quick" """, 400)]
    [InlineData("""[{"contract":"quick"}]""", 400)]
    [InlineData("""{"payload":42}""", 400)]
    [InlineData("""{"payload":"a","payloadBase64":"YQ=="}""", 400)]
    [InlineData("""{"payloadBase64":"not base64!"}""", 400)]
    [InlineData("""{"payload":""}""", 400)]
    public async Task A_bad_resubmit_of_a_dead_letter_changes_nothing(string body, int status)
    {
        var sentBefore = fixture.Destination.ReceivedAt("/reject").Count;
        using var content = new StringContent(body, Encoding.UTF8, "application/json");

        await ProblemAssert.IsProblemAsync(Silo.Client.PostAsync("/messages/dead-1/resubmit", content), (HttpStatusCode)status);

        await AssertDeadLetterUntouchedAsync(sentBefore);
    }

    [Fact]
    public async Task A_resubmitted_payload_over_the_limit_is_413_and_changes_nothing()
    {
        var sentBefore = fixture.Destination.ReceivedAt("/reject").Count;

        await ProblemAssert.IsProblemAsync(
            Silo.Client.PostAsJsonAsync("/messages/dead-1/resubmit", new { payload = new string('a', 1025) }),
            HttpStatusCode.RequestEntityTooLarge);

        await AssertDeadLetterUntouchedAsync(sentBefore);
    }

    [Theory]
    [InlineData("""{"status":"Delivered"}""")]
    [InlineData("""{"status":"Pending"}""")]
    [InlineData("""{"status":"Bogus"}""")]
    [InlineData("""{"status":"DeadLettered" """)]
    public async Task A_bad_bulk_resubmit_is_400_and_changes_nothing(string body)
    {
        var sentBefore = fixture.Destination.ReceivedAt("/reject").Count;
        using var content = new StringContent(body, Encoding.UTF8, "application/json");

        await ProblemAssert.IsProblemAsync(Silo.Client.PostAsync("/messages/resubmit", content), HttpStatusCode.BadRequest);

        await AssertDeadLetterUntouchedAsync(sentBefore);
    }

    /// <summary><c>dead-1</c> is still dead-lettered after its one attempt, with no operator event, and was not sent again.</summary>
    private async Task AssertDeadLetterUntouchedAsync(int sentBefore)
    {
        var message = await Silo.GetMessageAsync("dead-1");
        Assert.NotNull(message);
        Assert.Equal("DeadLettered", (string?)message["status"]);
        var delivery = Assert.Single(message["deliveries"]!.AsArray());
        Assert.Equal("DeadLettered", (string?)delivery!["status"]);
        Assert.Equal(1, (int?)delivery["attempts"]);
        Assert.Single(message["attempts"]!.AsArray());
        Assert.True(message["events"] is null || message["events"]!.AsArray().Count == 0, $"operator events: {message["events"]?.ToJsonString()}");
        Assert.Equal(sentBefore, fixture.Destination.ReceivedAt("/reject").Count);
    }
}
