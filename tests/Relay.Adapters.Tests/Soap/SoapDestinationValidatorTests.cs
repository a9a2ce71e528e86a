using Relay.Adapters.Soap;
using Relay.Adapters.Tests.Destinations;

namespace Relay.Adapters.Tests.Soap;

/// <summary>
/// A SOAP destination's own settings, checked by its adapter's validator at start-up: an unknown <c>SoapVersion</c>
/// used to pass and then dead-letter every message at its first attempt.
/// </summary>
public sealed class SoapDestinationValidatorTests
{
    private static SoapDestinationOptions Destination(string version) =>
        new() { Protocol = "Soap", Address = "http://127.0.0.1:9000/svc", SoapVersion = version };

    [Theory]
    [InlineData("1.3")]
    [InlineData("1.0")]
    [InlineData("2")]
    [InlineData("SOAP 1.2")]
    public void An_unknown_SoapVersion_is_named_with_its_key(string version)
    {
        Assert.Equal($"Relay:Destinations:target:SoapVersion is '{version}'; it must be 1.1 or 1.2.", DestinationSettings.OnlyError(Destination(version)));
    }

    [Theory]
    [InlineData("1.1")]
    [InlineData("1.2")]
    [InlineData("12")]
    [InlineData("Soap12")]
    [InlineData("")]
    public void The_versions_the_adapter_speaks_are_accepted(string version)
    {
        Assert.Empty(DestinationSettings.Validate(Destination(version)));
    }

    [Fact]
    public void A_bad_SoapVersion_in_the_configuration_names_the_full_key()
    {
        var problems = DestinationSettings.Problems(
            ("Relay:Destinations:legacy:Protocol", "Soap"), ("Relay:Destinations:legacy:Address", "http://127.0.0.1/svc"),
            ("Relay:Destinations:legacy:SoapVersion", "1.3"));

        Assert.Equal(["Relay:Destinations:legacy:SoapVersion is '1.3'; it must be 1.1 or 1.2."], problems);
    }
}
