namespace Relay.Silo.Security;

/// <summary>
/// <c>Relay:Security:FailedAuth</c>: how many failed authentications (a wrong API key, a portal sign-in with a wrong
/// key) one client address may make within a window before its further attempts are answered 429.
/// </summary>
public sealed class FailedAuthOptions
{
    public const string SectionName = "Relay:Security:FailedAuth";

    /// <summary>Failed authentications an address may make within <see cref="Window"/>; the next ones are answered 429.</summary>
    public int Limit { get; set; } = 10;

    /// <summary>
    /// The window, counted from an address's first failure: when it ends, the address starts afresh. With the defaults a
    /// guesser gets 10 guesses a minute, 14,400 a day: nothing against a random key of 128 bits or more.
    /// </summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The configuration's problems, by full key path; nothing when it is valid.</summary>
    public static IReadOnlyList<string> Validate(IConfigurationSection section)
    {
        FailedAuthOptions options;
        try
        {
            options = section.Get<FailedAuthOptions>() ?? new FailedAuthOptions();
        }
        catch (InvalidOperationException ex)
        {
            return [ex.Message];
        }

        var problems = new List<string>();
        if (options.Limit < 1)
        {
            problems.Add($"{section.Path}:{nameof(Limit)} is {options.Limit}; it must be at least 1.");
        }

        if (options.Window < TimeSpan.FromSeconds(1) || options.Window > TimeSpan.FromDays(1))
        {
            problems.Add($"{section.Path}:{nameof(Window)} must be between 00:00:01 and 1.00:00:00, not {options.Window}.");
        }

        return problems;
    }
}
