namespace Relay.Silo.Security;

/// <summary>
/// <c>Relay:Security</c>: who may call the silo. Keys are named entries (<c>"SenderKeys": { "shop": "k1" }</c>) or a
/// plain list (<c>"SenderKeys": [ "k1" ]</c>, named <c>sender#0</c>, ...). The name, never the key, is what the audit
/// and the logs show.
/// </summary>
public sealed class SecurityOptions
{
    public const string SectionName = "Relay:Security";

    /// <summary>Keys that may send messages and read the ones they sent.</summary>
    public Dictionary<string, string> SenderKeys { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Keys that may also list, resubmit, discard, pause, and use the portal, the dashboard and /metrics.</summary>
    public Dictionary<string, string> OperatorKeys { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Without any key the silo listens on loopback only; <c>true</c> lets it listen where <c>--urls</c> says, open
    /// to anyone who reaches it (behind a gateway that authenticates, for instance).
    /// </summary>
    public bool AllowAnonymous { get; set; }

    /// <summary>
    /// A folder every silo shares (a network volume) for the keys that sign portal sessions, so that a sign-in on one
    /// silo holds on all behind a load balancer. Unset: ASP.NET Core's default, per machine and user.
    /// </summary>
    public string? DataProtectionPath { get; set; }

    /// <summary>How long a portal sign-in lasts without use.</summary>
    public TimeSpan PortalSessionIdle { get; set; } = TimeSpan.FromHours(8);

    /// <summary>
    /// The keys as configured, checked before anything starts: a key left empty or blank (a secret that did not arrive)
    /// would otherwise be dropped without a word, and with the last key gone the silo would run without keys. A bare
    /// value where the keys are named (<c>Relay:Security:OperatorKeys=k</c>) would be dropped too. Names only, never a value.
    /// </summary>
    public static IReadOnlyList<string> Validate(IConfigurationSection security)
    {
        var problems = new List<string>();
        foreach (var list in new[] { nameof(SenderKeys), nameof(OperatorKeys) })
        {
            var keys = security.GetSection(list);
            if (!string.IsNullOrEmpty(keys.Value))
            {
                problems.Add($"{keys.Path} holds a single value; give each key a name ({keys.Path}:<name>=<key>) or a list ({keys.Path}:0=<key>).");
            }

            foreach (var key in keys.GetChildren())
            {
                if (key.GetChildren().Any())
                {
                    problems.Add($"{key.Path} is not a key: a key is one text value.");
                }
                else if (string.IsNullOrWhiteSpace(key.Value))
                {
                    problems.Add($"{key.Path} is empty; a key must not be empty or blank (remove the entry, or give it the key).");
                }
            }
        }

        return problems;
    }
}
