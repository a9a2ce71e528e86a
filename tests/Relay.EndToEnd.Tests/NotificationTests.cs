namespace Relay.EndToEnd.Tests;

/// <summary>The final notification: one per delivery reaching a final status after InRetry (or always, when asked).</summary>
public sealed class NotificationTests : RelayFixture
{
    private IReadOnlyList<JsonNode> NotificationsFor(string id) =>
        Destination.ReceivedAt("/notify").Select(r => JsonNode.Parse(r.Text)!).Where(n => (string?)n["id"] == id).ToList();

    [Fact]
    public async Task A_delivery_that_succeeds_after_retries_notifies_once_with_the_contract_fields()
    {
        Destination.Script("/bill", Reply.Status503, Reply.Ok());

        await Silo.SendAsync(new { id = "n-1", destination = "billing", payload = "p", correlationId = "req-9" });
        await Silo.WaitForStatusAsync("n-1", "Delivered");
        await Eventually.Until(() => NotificationsFor("n-1").Count >= 1, what: "notification of n-1");

        var notification = Assert.Single(NotificationsFor("n-1"));
        Assert.Equal("billing", (string?)notification["destination"]);
        Assert.Equal("Delivered", (string?)notification["status"]);
        Assert.Equal(2, (int?)notification["attempts"]);
        Assert.Equal(200, (int?)notification["response"]!["statusCode"]);
        Assert.Null(notification["lastError"]);
        Assert.Equal("req-9", (string?)notification["correlationId"]);
        Assert.NotNull(notification["completedAt"]);
        var request = Destination.ReceivedAt("/notify").Single(r => r.Text.Contains("\"n-1\"", StringComparison.Ordinal));
        Assert.StartsWith("application/json", request.Header("Content-Type"));
    }

    [Fact]
    public async Task A_delivery_that_dead_letters_after_retries_notifies_DeadLettered()
    {
        Destination.Answer("/bill", Reply.Status503);

        await Silo.SendAsync(new { id = "n-2", destination = "billing", payload = "p" });
        await Silo.WaitForStatusAsync("n-2", "DeadLettered");
        await Eventually.Until(() => NotificationsFor("n-2").Count >= 1, what: "notification of n-2");

        var notification = Assert.Single(NotificationsFor("n-2"));
        Assert.Equal("DeadLettered", (string?)notification["status"]);
        Assert.Equal(3, (int?)notification["attempts"]);
        Assert.Equal("503 Service Unavailable", (string?)notification["lastError"]);
    }

    [Fact]
    public async Task Delivered_at_once_does_not_notify_unless_NotifyOn_is_Always()
    {
        Destination.Answer("/bill", Reply.Ok());
        Destination.Answer("/always", Reply.Ok());

        await Silo.SendAsync(new { id = "n-3", destination = "billing", payload = "p" });
        await Silo.SendAsync(new { id = "n-4", destination = "always", payload = "p" });
        await Eventually.Until(() => NotificationsFor("n-4").Count >= 1, what: "notification of n-4");
        // n-4's notification went out; n-3's would have been queued before it, so it would be here by now.
        await Silo.WaitForStatusAsync("~notify:always:0:n-4", "Delivered");

        Assert.Empty(NotificationsFor("n-3"));
        Assert.Equal("Delivered", (string?)Assert.Single(NotificationsFor("n-4"))["status"]);
    }

    [Fact]
    public async Task Notify_none_sends_no_notification_and_another_notify_destination_can_be_named()
    {
        Destination.Script("/bill", Reply.Status503, Reply.Ok());
        Destination.Script("/ship", Reply.Status503, Reply.Ok());

        await Silo.SendAsync(new { id = "n-5", destination = "billing", payload = "p", notify = "none" });
        await Silo.SendAsync(new { id = "n-6", destination = "shipping", payload = "p", notify = "silent" });
        await Silo.WaitForStatusAsync("n-5", "Delivered");
        await Silo.WaitForStatusAsync("n-6", "Delivered");
        await Eventually.Until(() => Destination.ReceivedAt("/silent").Count >= 1, what: "notification of n-6 at /silent");

        Assert.Empty(NotificationsFor("n-5"));
        Assert.Empty(NotificationsFor("n-6"));
        Assert.Equal("n-6", (string?)JsonNode.Parse(Assert.Single(Destination.ReceivedAt("/silent")).Text)!["id"]);
    }

    [Fact]
    public async Task A_failing_notify_destination_is_retried_as_a_delivery_of_its_own()
    {
        Destination.Script("/bill", Reply.Status503, Reply.Ok());
        Destination.Script("/notify", Reply.Status503, Reply.Status503, Reply.Ok());

        await Silo.SendAsync(new { id = "n-7", destination = "billing", payload = "p" });
        var notification = await Silo.WaitForStatusAsync("~notify:billing:0:n-7", "Delivered");

        Assert.Equal(3, (int?)notification!["deliveries"]![0]!["attempts"]);
        Assert.Equal(3, Destination.ReceivedAt("/notify").Count(r => r.Text.Contains("\"n-7\"", StringComparison.Ordinal)));
        Assert.Equal("Delivered", (string?)(await Silo.GetMessageAsync("n-7"))!["status"]);
    }

    [Fact]
    public async Task A_resubmitted_delivery_notifies_again_when_it_ends()
    {
        Destination.Answer("/bill", Reply.Status503);
        await Silo.SendAsync(new { id = "n-8", destination = "billing", payload = "p" });
        await Silo.WaitForStatusAsync("n-8", "DeadLettered");
        await Eventually.Until(() => NotificationsFor("n-8").Count >= 1, what: "first notification of n-8");
        Destination.Script("/bill", Reply.Status503, Reply.Ok());

        var resubmit = await Silo.Client.PostAsync("/messages/n-8/resubmit", null);
        Assert.True(resubmit.StatusCode == System.Net.HttpStatusCode.Accepted, await resubmit.Content.ReadAsStringAsync());
        await Silo.WaitForStatusAsync("n-8", "Delivered");
        await Eventually.Until(() => NotificationsFor("n-8").Count >= 2, what: "second notification of n-8");

        Assert.Equal(["DeadLettered", "Delivered"], NotificationsFor("n-8").Select(n => (string?)n["status"]));
        Assert.Equal(2, (int?)NotificationsFor("n-8")[1]["attempts"]);
    }
}
