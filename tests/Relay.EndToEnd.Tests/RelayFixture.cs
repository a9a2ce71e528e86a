namespace Relay.EndToEnd.Tests;

/// <summary>
/// A silo and a destination server with the configuration most tests share: the base of the test classes that use it
/// as it is (one silo per test), or a field of those that wrap it.
/// </summary>
public class RelayFixture : SiloFixture
{
    protected override SiloSettings Configure() => new SiloSettings
    {
        ["Relay:Destinations:billing:Notify"] = "callbacks",
        ["Relay:Destinations:shipping:Notify"] = "callbacks",
        ["Relay:Destinations:always:Notify"] = "callbacks",
        ["Relay:Destinations:always:NotifyOn"] = "Always",
        ["Relay:Topics:order.created:0"] = "billing",
        ["Relay:Topics:order.created:1"] = "shipping",
    }
        .Contract("quick", 3)
        .Contract("patient", 50)
        .Destination("billing", Destination.Url("/bill"), "quick")
        .Destination("shipping", Destination.Url("/ship"), "quick")
        .Destination("always", Destination.Url("/always"), "quick")
        .Destination("silent", Destination.Url("/silent"), "quick")
        .Destination("callbacks", Destination.Url("/notify"), "patient");
}
