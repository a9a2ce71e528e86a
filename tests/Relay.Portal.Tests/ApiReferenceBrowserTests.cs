namespace Relay.Portal.Tests;

/// <summary>
/// The API reference (/scalar) in a real browser: reached from the portal with the portal's sign-in, its script
/// fetching /openapi/v1.json with the same cookie, and showing Relay's endpoints.
/// </summary>
public sealed class ApiReferenceBrowserTests(PortalFixture portal) : IClassFixture<PortalFixture>
{
    [Fact]
    public async Task A_signed_in_operator_opens_the_API_reference_from_the_portal_and_sees_the_endpoints()
    {
        await using var context = await portal.NewContextAsync();
        var page = await portal.SignInAsync(context);
        var document = page.WaitForResponseAsync(response => new Uri(response.Url).AbsolutePath == "/openapi/v1.json");
        await page.ClickAsync("nav >> text=API reference");
        // Scalar's script is a 5 MB bundle: on a busy machine it takes a while to start, so wait for the address only.
        await page.WaitForURLAsync(url => new Uri(url).AbsolutePath.StartsWith("/scalar", StringComparison.Ordinal),
            new PageWaitForURLOptions { WaitUntil = WaitUntilState.Commit, Timeout = 60_000 });

        // The page's own request for the document carries the portal cookie, and is answered.
        Assert.Equal(200, (await document).Status);
        await Expect(page.GetByRole(AriaRole.Heading, new PageGetByRoleOptions { Name = "Relay HTTP API" }).First)
            .ToBeVisibleAsync(new LocatorAssertionsToBeVisibleOptions { Timeout = 60_000 });
        // The sidebar lists the document's operations, by tag.
        await Expect(page.GetByRole(AriaRole.Link, new PageGetByRoleOptions { Name = "Send a message HTTP Method: POST" })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Link, new PageGetByRoleOptions { Name = "Operating", Exact = true })).ToBeVisibleAsync();
        await Screenshots.CaptureAsync(page, "api-reference", "api-reference", fullPage: false);
    }

    [Fact]
    public async Task Without_sign_in_the_API_reference_sends_the_browser_to_the_portal_login()
    {
        await using var context = await portal.NewContextAsync();
        var page = await context.NewPageAsync();

        await page.GotoAsync("/scalar/");

        Assert.Equal("/portal/login", new Uri(page.Url).AbsolutePath);
        Assert.Contains("returnUrl=%2Fscalar", page.Url, StringComparison.Ordinal);
    }
}
