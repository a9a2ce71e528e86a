using Relay.Testing;

namespace Relay.EndToEnd.Tests;

/// <summary>A silo and a destination server with the configuration most tests share.</summary>
public sealed class RelayFixture : IAsyncLifetime
{
    public TestDestination Destination { get; private set; } = null!;
    public TestSilo Silo { get; private set; } = null!;

    /// <summary>Extra settings of a test class.</summary>
    public Dictionary<string, string?> Extra { get; } = [];

    public async Task InitializeAsync()
    {
        Destination = await TestDestination.StartAsync();
        var settings = new Dictionary<string, string?>
        {
            ["Relay:Contracts:quick:MaxAttempts"] = "3",
            ["Relay:Contracts:quick:Delay"] = "00:00:00.200",
            ["Relay:Contracts:patient:MaxAttempts"] = "50",
            ["Relay:Contracts:patient:Delay"] = "00:00:00.200",
            ["Relay:Destinations:billing:Address"] = Destination.Url("/bill"),
            ["Relay:Destinations:billing:Contract"] = "quick",
            ["Relay:Destinations:billing:Notify"] = "callbacks",
            ["Relay:Destinations:shipping:Address"] = Destination.Url("/ship"),
            ["Relay:Destinations:shipping:Contract"] = "quick",
            ["Relay:Destinations:shipping:Notify"] = "callbacks",
            ["Relay:Destinations:always:Address"] = Destination.Url("/always"),
            ["Relay:Destinations:always:Contract"] = "quick",
            ["Relay:Destinations:always:Notify"] = "callbacks",
            ["Relay:Destinations:always:NotifyOn"] = "Always",
            ["Relay:Destinations:silent:Address"] = Destination.Url("/silent"),
            ["Relay:Destinations:silent:Contract"] = "quick",
            ["Relay:Destinations:callbacks:Address"] = Destination.Url("/notify"),
            ["Relay:Destinations:callbacks:Contract"] = "patient",
            ["Relay:Topics:order.created:0"] = "billing",
            ["Relay:Topics:order.created:1"] = "shipping",
        };
        foreach (var (key, value) in Extra)
        {
            settings[key] = value;
        }

        Silo = await TestSilo.StartAsync(settings);
    }

    public async Task DisposeAsync()
    {
        await Silo.DisposeAsync();
        await Destination.DisposeAsync();
    }
}
