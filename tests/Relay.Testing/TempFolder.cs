namespace Relay.Testing;

/// <summary>
/// The tests' scratch folders: one fresh folder under the system's temp folder per use, its name starting with a
/// prefix that says whose it is (<c>relay-ftp-</c>, <c>relay-crash-</c>), removed by <see cref="Delete"/>.
/// </summary>
public static class TempFolder
{
    public static string Create(string prefix)
    {
        var folder = Path.Combine(Path.GetTempPath(), prefix + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(folder);
        return folder;
    }

    /// <summary>Removes the folder and all in it; one that is gone already, or cannot go now, is no reason to fail a test.</summary>
    public static void Delete(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Gone already.
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Left to the system's clean-up of the temp folder.
        }
    }
}
