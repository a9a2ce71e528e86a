namespace Relay.Portal.Tests;

/// <summary>
/// The Orleans Dashboard in a real browser: reached from the portal with the portal's sign-in (no key typed again),
/// and showing Relay's grains at work.
/// </summary>
public sealed class DashboardBrowserTests(PortalFixture portal) : IClassFixture<PortalFixture>
{
    [Fact]
    public async Task A_signed_in_operator_opens_the_dashboard_from_the_portal_and_sees_Relays_grains()
    {
        // Some grain activity for the dashboard to show: delivered deliveries leave memory at once, a dead-lettered one stays a while.
        for (var i = 0; i < 5; i++)
        {
            await portal.SendAsync(new { id = PortalFixture.NewId("dash"), destination = "billing", payload = "{\"n\": " + i + "}" });
        }

        await portal.SendAsync(new { id = PortalFixture.NewId("dash"), destination = "rejecting", payload = "{}" });

        await using var context = await portal.NewContextAsync();
        var page = await portal.SignInAsync(context);
        await page.ClickAsync("nav >> text=Orleans dashboard");
        await page.WaitForURLAsync(url => new Uri(url).AbsolutePath.StartsWith("/dashboard", StringComparison.Ordinal));

        // The dashboard's own data calls (under /dashboard/) carry the portal cookie: the page fills in.
        await Expect(page).ToHaveTitleAsync("Orleans Dashboard");
        await page.GotoAsync("/dashboard/#/grains");
        await Expect(page.GetByText("DeliveryGrain").First).ToBeVisibleAsync(new LocatorAssertionsToBeVisibleOptions { Timeout = 30_000 });
        await Expect(page.GetByText("RetrySchedulerGrain").First).ToBeVisibleAsync();
        await Screenshots.CaptureAsync(page, "dashboard-grains", "dashboard-grains", fullPage: false);

        await page.GotoAsync("/dashboard/#/");
        await Expect(page.GetByRole(AriaRole.Heading, new PageGetByRoleOptions { Name = "Overview" })).ToBeVisibleAsync();
        await Expect(page.Locator("main")).ToContainTextAsync(new System.Text.RegularExpressions.Regex(@"Active Silos\s*1(?!\d)"), new LocatorAssertionsToContainTextOptions { Timeout = 30_000 });
        await Screenshots.CaptureAsync(page, "dashboard-overview", "dashboard-overview", fullPage: false);
    }

    [Fact]
    public async Task Without_sign_in_the_dashboard_sends_the_browser_to_the_portal_login()
    {
        await using var context = await portal.NewContextAsync();
        var page = await context.NewPageAsync();

        await page.GotoAsync("/dashboard/");

        Assert.Equal("/portal/login", new Uri(page.Url).AbsolutePath);
        Assert.Contains("returnUrl=%2Fdashboard", page.Url, StringComparison.Ordinal);
    }
}
