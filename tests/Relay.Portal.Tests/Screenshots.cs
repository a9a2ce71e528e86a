namespace Relay.Portal.Tests;

/// <summary>
/// Screenshots of pages: always into the test output folder (<c>screenshots/</c>), and, with
/// <c>RELAY_PUBLISH_SCREENSHOTS=1</c>, also into the repository's <c>docs/images/</c> for the documentation. Any test
/// (the portal's, the Orleans dashboard's) may use it.
/// </summary>
public static class Screenshots
{
    public static string OutputFolder { get; } = Path.Combine(AppContext.BaseDirectory, "screenshots");

    private static bool Publishing => Environment.GetEnvironmentVariable("RELAY_PUBLISH_SCREENSHOTS") == "1";

    /// <summary>
    /// Captures <paramref name="page"/> as <c>{name}.png</c>; <paramref name="docsName"/> (such as <c>portal-overview</c>)
    /// names the copy in docs/images when publishing. Answers the path in the output folder.
    /// </summary>
    public static async Task<string> CaptureAsync(IPage page, string name, string? docsName = null, bool fullPage = true)
    {
        Directory.CreateDirectory(OutputFolder);
        var path = Path.Combine(OutputFolder, name + ".png");
        var bytes = await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = fullPage });
        if (docsName is not null && Publishing)
        {
            var docs = Path.Combine(RepositoryRoot(), "docs", "images");
            Directory.CreateDirectory(docs);
            await File.WriteAllBytesAsync(Path.Combine(docs, docsName + ".png"), bytes);
        }

        return path;
    }

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Silo.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException("Silo.sln not found above " + AppContext.BaseDirectory);
    }
}
