namespace Relay.Portal.Tests;

/// <summary>
/// Chromium driven by Playwright: Debian's <c>/usr/bin/chromium</c> (or <c>RELAY_CHROMIUM</c>), headless. Playwright
/// cannot download its own browsers here; its driver (node) comes in the NuGet package.
/// </summary>
public static class PortalBrowser
{
    public static string ExecutablePath => Environment.GetEnvironmentVariable("RELAY_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    public static async Task<(IPlaywright Playwright, IBrowser Browser)> LaunchAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            throw new InvalidOperationException(
                $"No chromium at {ExecutablePath}: the portal's browser tests need it. Install Debian's package (apt-get install chromium), "
                + "or set RELAY_CHROMIUM to a chromium executable.");
        }

        var playwright = await Playwright.CreateAsync();
        try
        {
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = ExecutablePath,
                Headless = true,
                // Containers run as root without a user namespace sandbox; nothing here loads a foreign page.
                Args = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
            });
            return (playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }
}
