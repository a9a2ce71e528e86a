using System.Globalization;

namespace Relay.Testing;

/// <summary>
/// A silo's configuration keys for <see cref="TestSilo.StartAsync"/>, with the two shapes nearly every functional test
/// writes, one line each: a retry contract and a destination that uses it. Any other key goes in the initializer
/// (<c>new SiloSettings { ["Relay:Limits:MaxPayloadBytes"] = "1024" }</c>); a later line overrides an earlier one.
/// </summary>
public sealed class SiloSettings : Dictionary<string, string?>
{
    /// <summary>The test contracts' usual pause between attempts: short, yet long enough to see a retry happen.</summary>
    public const string QuickDelay = "00:00:00.200";

    public SiloSettings()
        : base(StringComparer.OrdinalIgnoreCase)
    {
    }

    /// <summary><c>Relay:Contracts:{name}</c>: at most <paramref name="maxAttempts"/> attempts, <paramref name="delay"/> apart.</summary>
    public SiloSettings Contract(string name, int maxAttempts, string delay = QuickDelay)
    {
        this[$"Relay:Contracts:{name}:MaxAttempts"] = maxAttempts.ToString(CultureInfo.InvariantCulture);
        this[$"Relay:Contracts:{name}:Delay"] = delay;
        return this;
    }

    /// <summary><c>Relay:Destinations:{name}</c> at <paramref name="address"/>, under <paramref name="contract"/> when given.</summary>
    public SiloSettings Destination(string name, string address, string? contract = null)
    {
        this[$"Relay:Destinations:{name}:Address"] = address;
        if (contract is not null)
        {
            this[$"Relay:Destinations:{name}:Contract"] = contract;
        }

        return this;
    }
}
