namespace Relay.Portal.Tests;

/// <summary>
/// Ids with characters a URL path treats specially ('/', '%', '?', '#', spaces) open, resubmit and discard their own
/// message in the portal, and never another one whose id reads the same once decoded differently.
/// </summary>
public sealed class MessageIdPortalTests(PortalFixture portal) : IClassFixture<PortalFixture>
{
    [Fact]
    public async Task A_confirmed_discard_and_resubmit_act_on_the_id_with_a_slash_not_on_its_encoded_twin()
    {
        var unique = PortalFixture.NewId("t");
        var slashed = $"orders/{unique}/42";
        // The literal text an id with a slash arrives as when a server forgets to decode %2F.
        var twin = $"orders%2F{unique}%2F42";
        foreach (var id in new[] { slashed, twin })
        {
            Assert.Equal("DeadLettered", (string?)(await portal.SendAsync(new { id, destination = "rejecting", payload = "p" }))["status"]);
        }

        await using var context = await portal.NewContextAsync();
        var page = await portal.SignInAsync(context);

        // From the list: the link opens the message with the slash.
        await page.GotoAsync("/portal/messages");
        await page.FillAsync("#filter-id", unique);
        await page.ClickAsync("#filter-apply");
        await page.Locator($"#messages tbody tr[data-id='{slashed}'] a.mono").ClickAsync();
        await Expect(page.Locator("#message-id")).ToHaveTextAsync(slashed);

        await page.Locator("#deliveries button", new() { HasText = "Discard" }).ClickAsync();
        await Expect(page.Locator("#confirm")).ToContainTextAsync("Discard the delivery to 'rejecting'?");
        await page.ClickAsync("#confirm-button");
        await Expect(page.Locator("#flash")).ToContainTextAsync("Discarded");
        await Expect(page.Locator("#message-id")).ToHaveTextAsync(slashed);
        await Expect(page.Locator("#message-status")).ToHaveTextAsync("Discarded");

        Assert.Equal("Discarded", (string?)(await portal.GetAsync(slashed))["deliveries"]![0]!["status"]);
        var untouched = await portal.GetAsync(twin);
        Assert.Equal("DeadLettered", (string?)untouched["status"]);
        Assert.True(untouched["events"] is null || untouched["events"]!.AsArray().Count == 0, untouched.ToJsonString());

        // The twin, opened by its own link, is resubmitted; the discarded one is not touched again.
        await page.GotoAsync("/portal/messages/" + Uri.EscapeDataString(twin));
        await Expect(page.Locator("#message-id")).ToHaveTextAsync(twin);
        await page.Locator("#deliveries button", new() { HasText = "Resubmit" }).ClickAsync();
        await page.ClickAsync("#confirm-button");
        await Expect(page.Locator("#flash")).ToContainTextAsync("Resubmitted");
        await Expect(page.Locator("#message-id")).ToHaveTextAsync(twin);

        var resubmitted = await portal.GetAsync(twin);
        Assert.Equal("Resubmitted", (string?)resubmitted["events"]!.AsArray().Single()!["action"]);
        var discarded = await portal.GetAsync(slashed);
        Assert.Equal("Discarded", (string?)discarded["events"]!.AsArray().Single()!["action"]);
    }

    [Theory]
    [InlineData("q?a=1#frag")]
    [InlineData("100% sure/ok")]
    [InlineData("a%252Fb")]
    [InlineData("é/日本 😀")]
    public async Task An_id_with_special_characters_is_edited_and_resubmitted_in_the_portal(string prefix)
    {
        var id = prefix + PortalFixture.NewId("-");
        Assert.Equal("DeadLettered", (string?)(await portal.SendAsync(new { id, destination = "rejecting", payload = "before" }))["status"]);
        await using var context = await portal.NewContextAsync();
        var page = await portal.SignInAsync(context);

        await page.GotoAsync("/portal/messages/" + Uri.EscapeDataString(id));
        await Expect(page.Locator("#message-id")).ToHaveTextAsync(id);
        await page.FillAsync("#edit-payload", "after");
        await page.ClickAsync("#edit-review");
        await Expect(page.Locator("#confirm")).ToContainTextAsync("Resubmit to 'rejecting'?");
        await page.ClickAsync("#confirm-button");
        await Expect(page.Locator("#flash")).ToContainTextAsync("Resubmitted with the edited payload");
        await Expect(page.Locator("#message-id")).ToHaveTextAsync(id);

        var message = await portal.GetAsync(id);
        Assert.Equal("Resubmitted", (string?)message["events"]!.AsArray().Single()!["action"]);
        Assert.Equal("after", portal.ReceivedFor(id, "/reject").Last().Text);
    }
}
