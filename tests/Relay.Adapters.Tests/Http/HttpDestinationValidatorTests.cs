using Relay.Adapters.Http;
using Relay.Adapters.Tests.Destinations;

namespace Relay.Adapters.Tests.Http;

/// <summary>An HTTP destination's own settings, checked by its adapter's validator at start-up.</summary>
public sealed class HttpDestinationValidatorTests
{
    private static HttpDestinationOptions Destination(string method) => new() { Address = "http://127.0.0.1:9000/bill", Method = method };

    [Theory]
    [InlineData("PO ST")]
    [InlineData("")]
    [InlineData("POST\r\n")]
    public void A_Method_that_is_no_HTTP_token_is_named_with_its_key(string method)
    {
        Assert.StartsWith("Relay:Destinations:target:Method is '", DestinationSettings.OnlyError(Destination(method)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("POST")]
    [InlineData("PUT")]
    [InlineData("PATCH")]
    public void An_HTTP_method_is_accepted(string method)
    {
        Assert.Empty(DestinationSettings.Validate(Destination(method)));
    }

    [Fact]
    public void A_bad_Method_in_the_configuration_names_the_full_key()
    {
        var problems = DestinationSettings.Problems(("Relay:Destinations:billing:Address", "http://127.0.0.1/"), ("Relay:Destinations:billing:Method", "GET /x"));

        Assert.Equal(["Relay:Destinations:billing:Method is 'GET /x', which is not an HTTP method (for example POST or PUT)."], problems);
    }
}
