namespace Relay.Portal.Tests;

/// <summary>The catalog page (<c>/portal/catalog</c>) in a real browser: an operator creates a destination and it takes messages.</summary>
public sealed class CatalogPortalTests(PortalFixture portal) : IClassFixture<PortalFixture>
{
    [Fact]
    public async Task An_operator_creates_a_destination_in_the_portal_and_it_takes_messages_at_once()
    {
        var name = PortalFixture.NewId("partner");
        portal.Destination.Answer("/partner", Reply.Ok());
        await using var context = await portal.NewContextAsync();
        var page = await portal.SignInAsync(context);

        await page.GotoAsync("/portal/catalog");
        // A bad address first: refused, naming the setting, nothing stored.
        await page.FillAsync("#add-name", name);
        await page.FillAsync("#add-settings", """{ "Protocol": "Http", "Address": "partner.example" }""");
        await page.ClickAsync("#add-save");
        await Expect(page.Locator("#flash-error")).ToContainTextAsync($"Relay:Destinations:{name}:Address");
        await Expect(page.Locator($"#catalog-destinations tr[data-name='{name}']")).ToHaveCountAsync(0);

        await page.FillAsync("#add-name", name);
        await page.FillAsync("#add-settings", $$"""{ "Protocol": "Http", "Address": "{{portal.Destination.Url("/partner")}}", "Headers": { "X-Key": "s3cret" } }""");
        await page.ClickAsync("#add-save");

        await Expect(page.Locator("#flash")).ToContainTextAsync($"The destination '{name}' was created");
        var row = page.Locator($"#catalog-destinations tr[data-name='{name}']");
        await Expect(row).ToHaveCountAsync(1);
        await Expect(row.Locator("textarea")).ToContainTextAsync("***");
        await Screenshots.CaptureAsync(page, "catalog", "portal-catalog");
        var id = PortalFixture.NewId("to-partner");
        var sent = await portal.SendAsync(new { id, destination = name, payload = "p" });
        Assert.Equal("Delivered", (string?)sent["status"]);
        Assert.Equal("s3cret", Assert.Single(portal.ReceivedFor(id, "/partner")).Header("X-Key"));
    }

    [Fact]
    public async Task An_operator_subscribes_a_destination_to_a_topic_with_a_filter_in_the_portal_and_it_takes_only_matching_messages()
    {
        var name = PortalFixture.NewId("eu-partner");
        var topic = PortalFixture.NewId("eu-orders");
        portal.Destination.Answer("/eu-partner", Reply.Ok());
        await using var context = await portal.NewContextAsync();
        var page = await portal.SignInAsync(context);
        await page.GotoAsync("/portal/catalog");
        await page.SelectOptionAsync("#add-kind", "Destination");
        await page.FillAsync("#add-name", name);
        await page.FillAsync("#add-settings", $$"""{ "Protocol": "Http", "Address": "{{portal.Destination.Url("/eu-partner")}}" }""");
        await page.ClickAsync("#add-save");
        await Expect(page.Locator("#flash")).ToContainTextAsync($"The destination '{name}' was created");

        // A malformed filter first: refused, naming the subscription's filter and the column, nothing stored.
        await page.SelectOptionAsync("#add-kind", "Topic");
        await page.FillAsync("#add-name", topic);
        await page.FillAsync("#add-settings", $$"""{ "Subscriptions": [{ "Destination": "{{name}}", "Filter": "region = " }] }""");
        await page.ClickAsync("#add-save");
        await Expect(page.Locator("#flash-error")).ToContainTextAsync($"Relay:Topics:{topic}:Subscriptions:0:Filter");
        await Expect(page.Locator("#flash-error")).ToContainTextAsync("column");
        await Expect(page.Locator($"#catalog-topics tr[data-name='{topic}']")).ToHaveCountAsync(0);

        await page.SelectOptionAsync("#add-kind", "Topic");
        await page.FillAsync("#add-name", topic);
        await page.FillAsync("#add-settings", $$"""{ "Subscriptions": [{ "Destination": "{{name}}", "Filter": "region = 'eu' AND amount > 100" }, { "Destination": "billing" }] }""");
        await page.ClickAsync("#add-save");

        await Expect(page.Locator("#flash")).ToContainTextAsync($"The topic '{topic}' was created");
        var row = page.Locator($"#catalog-topics tr[data-name='{topic}']");
        await Expect(row.Locator("textarea")).ToContainTextAsync("region = 'eu' AND amount > 100");
        await Screenshots.CaptureAsync(page, "catalog-topic-filter", "portal-catalog-topic-filter");
        var matching = PortalFixture.NewId("eu-big");
        var sent = await portal.SendAsync(new { id = matching, topic, payload = """{"region": "eu", "amount": 250}""" });
        Assert.Equal([name, "billing"], sent["subscribers"]!.AsArray().Select(n => (string?)n));
        var other = PortalFixture.NewId("us-big");
        sent = await portal.SendAsync(new { id = other, topic, payload = """{"region": "us", "amount": 250}""" });
        Assert.Equal(["billing"], sent["subscribers"]!.AsArray().Select(n => (string?)n));

        await portal.WaitForStatusAsync(matching, "Delivered");
        await portal.WaitForStatusAsync(other, "Delivered");
        Assert.Single(portal.ReceivedFor(matching, "/eu-partner"));
        Assert.Empty(portal.ReceivedFor(other, "/eu-partner"));
    }
}
