namespace Relay.Portal.Tests;

/// <summary>A silo without keys (it listens on loopback only): the portal opens without sign-in, as the operator "anonymous".</summary>
public sealed class AnonymousPortalTests : IAsyncLifetime
{
    private IPlaywright? _playwright;
    private IBrowser _browser = null!;
    private TestDestination _destination = null!;
    private TestSilo _silo = null!;

    public async Task InitializeAsync()
    {
        (_playwright, _browser) = await PortalBrowser.LaunchAsync();
        _destination = await TestDestination.StartAsync();
        _destination.AnswerAll(new Reply(400, "rejected"));
        _silo = await TestSilo.StartAsync(new SiloSettings
        {
            ["Relay:Contracts:quick:MaxAttempts"] = "1",
        }
            .Destination("rejecting", _destination.Url("/reject"), "quick"));
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright?.Dispose();
        await _silo.DisposeAsync();
        await _destination.DisposeAsync();
    }

    [Fact]
    public async Task Without_keys_the_portal_needs_no_sign_in_and_the_audit_names_anonymous()
    {
        var id = PortalFixture.NewId("open");
        var (_, sent) = await _silo.SendAndReadAsync(new { id, destination = "rejecting", payload = "p" });
        Assert.Equal("DeadLettered", (string?)sent["status"]);
        var baseUrl = _silo.Client.BaseAddress!.ToString().TrimEnd('/');
        await using var context = await _browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = baseUrl });
        var page = await context.NewPageAsync();

        await page.GotoAsync("/portal/login");
        Assert.Equal("/portal", new Uri(page.Url).AbsolutePath);
        await Expect(page.Locator("#operator")).ToHaveTextAsync("anonymous");
        await Expect(page.Locator("text=Sign out")).ToHaveCountAsync(0);

        await page.GotoAsync($"/portal/messages/{id}");
        await page.Locator("#deliveries button", new() { HasText = "Discard" }).ClickAsync();
        await page.ClickAsync("#confirm-button");
        await Expect(page.Locator("#message-status")).ToHaveTextAsync("Discarded");
        await Expect(page.Locator("#audit tr.operator-action")).ToContainTextAsync("Discarded by anonymous");
    }

    [Fact]
    public async Task A_web_page_from_another_site_can_neither_send_nor_pause_through_the_browser()
    {
        var baseUrl = _silo.Client.BaseAddress!.ToString().TrimEnd('/');
        var id = PortalFixture.NewId("csrf");
        // A page of another site on the same machine (localhost is not 127.0.0.1 to a browser): a simple form post, and
        // a no-cors fetch with a text/plain body that is JSON, as a hostile page would send them.
        _destination.Answer("/evil", new Reply(200, $"""
            <!doctype html><html><body>
            <form method="post" action="{baseUrl}/destinations/rejecting/pause"><button id="go">go</button></form>
            </body></html>
            """, new Dictionary<string, string> { ["Content-Type"] = "text/html; charset=utf-8" }));
        await using var context = await _browser.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(_destination.Url("/evil").Replace("127.0.0.1", "localhost", StringComparison.Ordinal));

        await page.EvaluateAsync("""
            async ([url, body]) => { await fetch(url, { method: 'POST', mode: 'no-cors', headers: { 'Content-Type': 'text/plain' }, body }); }
            """, new object[] { baseUrl + "/messages", $$"""{"id":"{{id}}","destination":"rejecting","payload":"x"}""" });
        await page.ClickAsync("#go");
        await page.WaitForURLAsync(baseUrl + "/destinations/rejecting/pause");

        Assert.Null(await _silo.GetMessageAsync(id));
        Assert.DoesNotContain(_destination.ReceivedAt("/reject"), r => r.Header("Idempotency-Key") == id);
        var destinations = await TestSilo.ReadAsync(await _silo.Client.GetAsync("/destinations"));
        Assert.NotEqual(true, (bool?)destinations["items"]!.AsArray().Single(d => (string?)d!["name"] == "rejecting")!["paused"]);
    }
}
