using Xunit;

namespace Relay.Testing;

/// <summary>
/// The set-up most functional tests share: a real HTTP destination server, then a silo configured to deliver to it;
/// both stopped at the end. A subclass says only how the silo is configured (<see cref="Configure"/>). Used as a class
/// fixture (<c>IClassFixture&lt;T&gt;</c>: one silo for a test class) or as a test class's base (one silo per test).
/// </summary>
public abstract class SiloFixture : IAsyncLifetime
{
    public TestDestination Destination { get; private set; } = null!;

    public TestSilo Silo { get; private set; } = null!;

    /// <summary>Where the silo's log lines go besides the test output; none unless a subclass says.</summary>
    protected virtual ILoggerProvider? SiloLogs => null;

    /// <summary>
    /// The silo's settings, asked once <see cref="Destination"/> listens (so addresses can point at it); a subclass may
    /// script the destination's answers here too.
    /// </summary>
    protected abstract SiloSettings Configure();

    public virtual async Task InitializeAsync()
    {
        Destination = await TestDestination.StartAsync();
        Silo = await TestSilo.StartAsync(Configure(), logs: SiloLogs);
    }

    public virtual async Task DisposeAsync()
    {
        // Null when the start failed half way.
        if (Silo is not null)
        {
            await Silo.DisposeAsync();
        }

        if (Destination is not null)
        {
            await Destination.DisposeAsync();
        }
    }
}
