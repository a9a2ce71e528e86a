namespace Relay.EndToEnd.Tests;

/// <summary>Idempotency, topics, resubmit, discard: each per delivery, never re-sending what was delivered.</summary>
public sealed class OperatorTests : RelayFixture
{
    [Fact]
    public async Task The_same_id_with_the_same_content_answers_the_existing_state_and_sends_nothing_new()
    {
        var message = new { id = "idem-1", destination = "silent", payload = "p", headers = new Dictionary<string, string> { ["X-A"] = "1" } };
        var (first, firstBody) = await Silo.SendAndReadAsync(message);
        var (second, secondBody) = await Silo.SendAndReadAsync(message);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal("Delivered", (string?)secondBody["status"]);
        Assert.Equal((string?)firstBody["acceptedAt"], (string?)secondBody["acceptedAt"]);
        Assert.Single(Destination.ReceivedAt("/silent"));
    }

    [Fact]
    public async Task The_same_id_with_different_content_answers_409_and_sends_nothing()
    {
        await Silo.SendAsync(new { id = "idem-2", destination = "silent", payload = "p" });

        var changedPayload = await Silo.SendAsync(new { id = "idem-2", destination = "silent", payload = "q" });
        var changedDestination = await Silo.SendAsync(new { id = "idem-2", destination = "billing", payload = "p" });

        Assert.Equal(HttpStatusCode.Conflict, changedPayload.StatusCode);
        Assert.Equal("application/problem+json", changedPayload.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Conflict, changedDestination.StatusCode);
        Assert.Single(Destination.ReceivedAt("/silent"));
        Assert.Empty(Destination.ReceivedAt("/bill"));
    }

    [Fact]
    public async Task Concurrent_sends_of_one_id_store_and_send_it_once()
    {
        Destination.Answer("/silent", new Reply(200, "ok", Delay: TimeSpan.FromMilliseconds(200)));
        var message = new { id = "idem-3", destination = "silent", payload = "p" };

        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Silo.SendAsync(message)));

        foreach (var answer in answers)
        {
            Assert.True(answer.StatusCode == HttpStatusCode.OK, $"{answer.StatusCode}: {await answer.Content.ReadAsStringAsync()}");
        }

        Assert.Single(Destination.ReceivedAt("/silent"));
    }

    [Fact]
    public async Task A_topic_fans_out_into_one_delivery_per_subscriber_each_with_its_own_status()
    {
        Destination.Answer("/bill", Reply.Ok());
        Destination.Answer("/ship", new Reply(400, "no such address"));

        var (response, body) = await Silo.SendAndReadAsync(new { id = "topic-1", topic = "order.created", payload = "o" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("DeadLettered", (string?)body["status"]);
        var deliveries = body["deliveries"]!.AsArray().ToDictionary(d => (string)d!["destination"]!, d => (string)d!["status"]!);
        Assert.Equal("Delivered", deliveries["billing"]);
        Assert.Equal("DeadLettered", deliveries["shipping"]);
        Assert.Equal("order.created", (string?)body["topic"]);
    }

    [Fact]
    public async Task Resubmit_reaches_only_the_failed_subscriber_with_the_edited_payload_and_is_audited()
    {
        Destination.Answer("/bill", Reply.Ok());
        Destination.Answer("/ship", new Reply(400, "bad"));
        await Silo.SendAsync(new { id = "topic-2", topic = "order.created", payload = "original" });
        Destination.Answer("/ship", Reply.Ok());

        var response = await Silo.Client.PostAsJsonAsync("/messages/topic-2/resubmit", new { payload = "edited", contract = "patient" });
        var body = await TestSilo.ReadAsync(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Delivered", (string?)body["status"]);
        Assert.Single(Destination.ReceivedAt("/bill"));
        var ship = Destination.ReceivedAt("/ship");
        Assert.Equal(["original", "edited"], ship.Select(r => r.Text));
        Assert.Equal("1", ship[1].Header("X-Relay-Attempt"));
        Assert.Equal("topic-2", ship[1].Header("Idempotency-Key"));

        var message = await Silo.GetMessageAsync("topic-2");
        var resubmitted = Assert.Single(message!["events"]!.AsArray());
        Assert.Equal("Resubmitted", (string?)resubmitted!["action"]);
        Assert.Equal("shipping", (string?)resubmitted["destination"]);
        Assert.Equal("anonymous", (string?)resubmitted["by"]);
        Assert.Contains("payload edited", (string?)resubmitted["detail"]);
        Assert.Contains("patient", (string?)resubmitted["detail"]);
        Assert.Equal(3, message["attempts"]!.AsArray().Count);
    }

    [Fact]
    public async Task Resubmit_of_a_delivered_delivery_is_refused_and_sends_nothing()
    {
        Destination.Answer("/silent", Reply.Ok());
        await Silo.SendAsync(new { id = "done-1", destination = "silent", payload = "p" });

        var all = await Silo.Client.PostAsJsonAsync("/messages/done-1/resubmit", new { });
        var named = await Silo.Client.PostAsJsonAsync("/messages/done-1/resubmit", new { destination = "silent" });

        Assert.Equal(HttpStatusCode.Conflict, all.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, named.StatusCode);
        Assert.Single(Destination.ReceivedAt("/silent"));
    }

    [Fact]
    public async Task Bulk_resubmit_by_destination_resends_only_its_dead_letters()
    {
        Destination.Answer("/bill", new Reply(400, "bad"));
        Destination.Answer("/silent", new Reply(400, "bad"));
        for (var i = 0; i < 5; i++)
        {
            await Silo.SendAsync(new { id = $"bulk-b-{i}", destination = "billing", payload = "p" });
        }

        await Silo.SendAsync(new { id = "bulk-s-0", destination = "silent", payload = "p" });
        Destination.Answer("/bill", Reply.Ok());
        Destination.Answer("/silent", Reply.Ok());

        var response = await Silo.Client.PostAsJsonAsync("/messages/resubmit", new { status = "DeadLettered", destination = "billing" });
        var body = await TestSilo.ReadAsync(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(5, (int?)body["resubmitted"]);
        for (var i = 0; i < 5; i++)
        {
            await Silo.WaitForStatusAsync($"bulk-b-{i}", "Delivered");
        }

        Assert.Equal("DeadLettered", (string?)(await Silo.GetMessageAsync("bulk-s-0"))!["status"]);
        Assert.Single(Destination.ReceivedAt("/silent"));
    }

    [Fact]
    public async Task Discard_moves_a_dead_letter_to_Discarded_and_refuses_anything_else()
    {
        Destination.Answer("/silent", new Reply(400, "bad"));
        await Silo.SendAsync(new { id = "discard-1", destination = "silent", payload = "p" });

        var response = await Silo.Client.PostAsync("/messages/discard-1/discard", null);
        var again = await Silo.Client.PostAsync("/messages/discard-1/discard", null);
        var resubmit = await Silo.Client.PostAsJsonAsync("/messages/discard-1/resubmit", new { });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Discarded", (string?)(await TestSilo.ReadAsync(response))["deliveries"]![0]!["status"]);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, resubmit.StatusCode);
        var message = await Silo.GetMessageAsync("discard-1");
        Assert.Contains(message!["events"]!.AsArray(), e => (string?)e!["action"] == "Discarded");
        Assert.Single(Destination.ReceivedAt("/silent"));
    }
}
