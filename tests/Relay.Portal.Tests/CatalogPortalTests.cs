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
}
