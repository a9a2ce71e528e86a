namespace Relay.Silo.Health;

/// <summary><c>Relay:Health</c>: what <c>GET /health</c> checks, and how often it may cost a write.</summary>
public sealed class HealthOptions
{
    public const string SectionName = "Relay:Health";

    /// <summary>
    /// How long the verdict of the storage write check holds. <c>/health</c> reads the database at each call (a
    /// <c>SELECT</c>, no commit) but writes at most once per interval per silo, whatever the probe rate: probes within
    /// the interval share the last verdict (a failure too), and probes that meet a check under way wait for it.
    /// So a storage that stops accepting writes is seen within this interval (plus the check's 5-second timeout).
    /// </summary>
    public TimeSpan WriteCheckInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The configuration's problems, by full key path; nothing when it is valid.</summary>
    public static IReadOnlyList<string> Validate(IConfigurationSection health)
    {
        HealthOptions options;
        try
        {
            options = health.Get<HealthOptions>() ?? new HealthOptions();
        }
        catch (InvalidOperationException)
        {
            return [$"{health.Path}:{nameof(WriteCheckInterval)} is not a time span (00:00:05), but '{health[nameof(WriteCheckInterval)]}'."];
        }

        return options.WriteCheckInterval < TimeSpan.FromSeconds(1) || options.WriteCheckInterval > TimeSpan.FromMinutes(5)
            ? [$"{health.Path}:{nameof(WriteCheckInterval)} must be between 00:00:01 and 00:05:00 (one storage write per interval and silo), not {options.WriteCheckInterval}."]
            : [];
    }
}
