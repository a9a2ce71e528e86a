namespace Relay.Silo.Limits;

/// <summary>
/// <c>Relay:Limits:PerClient</c>: what one client may take of a silo, so that no client alone can hold all of
/// <c>Relay:Limits:MaxConcurrentConnections</c> or all its request throughput. A client is its address (an IPv6 address
/// by its /64), or its key's name when it authenticates with a key (its portal session too).
/// <para>
/// The defaults leave room for the benchmarks (64 concurrent senders from one address, about 1,900 messages a second
/// on one silo; an open loop at 1,000 a second) several times over: they stop a runaway or hostile client, not a busy one.
/// </para>
/// </summary>
public sealed class ClientLimitOptions
{
    public const string SectionName = "Relay:Limits:PerClient";

    /// <summary>
    /// TCP connections one address may hold open at once (default 2,048, half of the silo's 4,096: the benchmark's open
    /// loop at 1,000 msg/s opens a connection per request in flight, about 760 when answers stall for 0.76 s). A
    /// connection beyond it is answered 429 on its first request and closed. Connections from
    /// <c>Relay:ForwardedHeaders:TrustedProxies</c> are not counted: a proxy carries many clients, each limited by its
    /// forwarded address in <see cref="Requests"/>.
    /// </summary>
    public int Connections { get; set; } = 2048;

    /// <summary>
    /// Requests one client may make per <see cref="Window"/> (default 10,000 a second): a token bucket of this size,
    /// refilled evenly over the window, so a client may also send this many at once. Beyond it: 429 with <c>Retry-After</c>.
    /// </summary>
    public int Requests { get; set; } = 10_000;

    /// <summary>The window of <see cref="Requests"/> (default one second).</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The configuration's problems, by full key path; nothing when it is valid.</summary>
    public static IReadOnlyList<string> Validate(IConfigurationSection section)
    {
        ClientLimitOptions options;
        try
        {
            options = section.Get<ClientLimitOptions>() ?? new ClientLimitOptions();
        }
        catch (InvalidOperationException ex)
        {
            return [ex.Message];
        }

        var problems = new List<string>();
        if (options.Connections < 1)
        {
            problems.Add($"{section.Path}:{nameof(Connections)} is {options.Connections}; it must be at least 1.");
        }

        if (options.Requests < 1)
        {
            problems.Add($"{section.Path}:{nameof(Requests)} is {options.Requests}; it must be at least 1.");
        }

        if (options.Window < TimeSpan.FromMilliseconds(100) || options.Window > TimeSpan.FromDays(1))
        {
            problems.Add($"{section.Path}:{nameof(Window)} must be between 00:00:00.1 and 1.00:00:00, not {options.Window}.");
        }

        return problems;
    }

    /// <summary>
    /// The token bucket: <see cref="Requests"/> tokens, refilled in up to 10 equal steps over the window (the largest
    /// step count up to 10 that divides <see cref="Requests"/>, so the rate is exactly Requests per Window).
    /// </summary>
    internal System.Threading.RateLimiting.TokenBucketRateLimiterOptions ToBucket()
    {
        var steps = Enumerable.Range(1, Math.Min(10, Requests)).Last(n => Requests % n == 0);
        return new System.Threading.RateLimiting.TokenBucketRateLimiterOptions
        {
            TokenLimit = Requests,
            TokensPerPeriod = Requests / steps,
            ReplenishmentPeriod = Window / steps,
            QueueLimit = 0,
            AutoReplenishment = true,
        };
    }
}
