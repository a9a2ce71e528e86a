namespace Relay.Portal.Tests;

/// <summary>Who gets in, and what a hostile payload or a forged form can do (nothing).</summary>
public sealed class PortalSecurityTests(PortalFixture portal) : IClassFixture<PortalFixture>
{
    [Fact]
    public async Task Without_sign_in_the_portal_sends_the_browser_to_the_login_page()
    {
        await using var context = await portal.NewContextAsync();
        var page = await context.NewPageAsync();

        await page.GotoAsync("/portal/messages?status=DeadLettered");

        Assert.Equal("/portal/login", new Uri(page.Url).AbsolutePath);
        Assert.Contains("returnUrl=%2Fportal%2Fmessages", page.Url, StringComparison.Ordinal);
        await Expect(page.Locator("#login")).ToBeVisibleAsync();
        await Screenshots.CaptureAsync(page, "login", "portal-login", fullPage: false);

        // After signing in, the browser is back where it wanted to go.
        await page.FillAsync("#key", PortalFixture.OpsKey);
        await page.ClickAsync("#sign-in");
        await page.WaitForURLAsync(portal.BaseUrl + "/portal/messages?status=DeadLettered");
        await Expect(page.Locator("#operator")).ToHaveTextAsync("ops");
    }

    [Fact]
    public async Task A_sender_key_cannot_sign_in()
    {
        await using var context = await portal.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync("/portal/login");
        await page.FillAsync("#key", PortalFixture.ShopKey);
        await page.ClickAsync("#sign-in");

        await Expect(page.Locator("#page-error")).ToContainTextAsync("sender key");
        await page.GotoAsync("/portal");
        Assert.Equal("/portal/login", new Uri(page.Url).AbsolutePath);
        Assert.DoesNotContain(await context.CookiesAsync(), c => c.Name == "relay.portal");
    }

    [Fact]
    public async Task A_wrong_key_cannot_sign_in_and_signing_out_ends_the_session()
    {
        await using var context = await portal.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync("/portal/login");
        await page.FillAsync("#key", "not-a-key");
        await page.ClickAsync("#sign-in");
        await Expect(page.Locator("#page-error")).ToHaveTextAsync("That key is not valid.");

        page = await portal.SignInAsync(context);
        await page.ClickAsync("text=Sign out");
        await page.WaitForURLAsync(portal.BaseUrl + "/portal/login");
        await page.GotoAsync("/portal");
        Assert.Equal("/portal/login", new Uri(page.Url).AbsolutePath);
    }

    [Fact]
    public async Task A_payload_of_markup_is_shown_as_text_and_nothing_in_it_runs()
    {
        var id = PortalFixture.NewId("xss");
        const string hostile = """<script>window.__relayXss = 1</script><img src="x" onerror="window.__relayXss = 2"><b id="injected">bold</b>""";
        portal.Destination.Script("/billing", new Reply(400, """<script>window.__relayXss = 3</script>"""));
        await portal.SendAsync(new { id, destination = "billing", payload = hostile, contentType = "text/html", headers = new Dictionary<string, string> { ["X-Note"] = "<img src=x onerror=alert(1)>" } });

        await using var context = await portal.NewContextAsync();
        var page = await portal.SignInAsync(context);
        await page.GotoAsync($"/portal/messages/{id}");
        await Expect(page.Locator("#payload")).ToHaveTextAsync(hostile);
        await page.GotoAsync($"/portal/messages?id={id}");
        await page.GotoAsync($"/portal/messages/{id}");

        // The portal has no script of its own, so any script or image element would have come from the payload.
        Assert.Equal(0, await page.Locator("script").CountAsync());
        Assert.Equal(0, await page.Locator("img").CountAsync());
        Assert.Equal(0, await page.Locator("#injected").CountAsync());
        Assert.Equal("undefined", await page.EvaluateAsync<string>("() => typeof window.__relayXss"));
        // The destination's answer (in the audit) is text too.
        await Expect(page.Locator("#audit")).ToContainTextAsync("""<script>window.__relayXss = 3</script>""");
    }

    [Fact]
    public async Task A_post_without_the_antiforgery_token_is_refused_and_changes_nothing()
    {
        var id = PortalFixture.NewId("csrf");
        await portal.SendAsync(new { id, destination = "rejecting", payload = "p" });
        await using var context = await portal.NewContextAsync();
        await portal.SignInAsync(context);

        // Signed in (the cookie goes along), but without the form's token: as a forged form from another site would be.
        var discard = await context.APIRequest.PostAsync($"/portal/messages/{id}?handler=Discard", new APIRequestContextOptions
        {
            Form = Form(context, ("destination", "rejecting"), ("confirmed", "true")),
            MaxRedirects = 0,
        });
        var pause = await context.APIRequest.PostAsync("/portal?handler=Pause", new APIRequestContextOptions
        {
            Form = Form(context, ("destination", "spare"), ("confirmed", "true")),
            MaxRedirects = 0,
        });
        var resubmit = await context.APIRequest.PostAsync($"/portal/messages/{id}?handler=Resubmit", new APIRequestContextOptions
        {
            Form = Form(context, ("destination", "rejecting"), ("payload", "forged"), ("confirmed", "true"), ("__relay_csrf", "not-a-token")),
            MaxRedirects = 0,
        });

        Assert.Equal(400, discard.Status);
        Assert.Equal(400, pause.Status);
        Assert.Equal(400, resubmit.Status);
        var message = await portal.GetAsync(id);
        Assert.Equal("DeadLettered", (string?)message["status"]);
        Assert.Empty(message["events"]!.AsArray());
        Assert.Single(portal.ReceivedFor(id, "/reject"));
        var spare = (await portal.CallAsync(HttpMethod.Get, "/destinations"))["items"]!.AsArray().Single(d => (string?)d!["name"] == "spare")!;
        Assert.False((bool)spare["paused"]!);
    }

    [Fact]
    public async Task Portal_pages_forbid_scripts_and_framing()
    {
        await using var context = await portal.NewContextAsync();
        var page = await portal.SignInAsync(context);

        var response = await page.GotoAsync("/portal/messages");

        var headers = await response!.AllHeadersAsync();
        Assert.Contains("default-src 'none'", headers["content-security-policy"], StringComparison.Ordinal);
        Assert.Equal("DENY", headers["x-frame-options"]);
        Assert.Contains("no-store", headers["cache-control"], StringComparison.Ordinal);
    }

    private static IFormData Form(IBrowserContext context, params (string Name, string Value)[] fields)
    {
        var form = context.APIRequest.CreateFormData();
        foreach (var (name, value) in fields)
        {
            form.Set(name, value);
        }

        return form;
    }
}
