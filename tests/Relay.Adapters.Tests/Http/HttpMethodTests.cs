using Relay.Adapters.Http;

namespace Relay.Adapters.Tests.Http;

/// <summary>The method a destination is sent with: as configured, to the letter (methods are case-sensitive).</summary>
public sealed class HttpMethodTests
{
    [Theory]
    [InlineData("POST")]
    [InlineData("PUT")]
    [InlineData("PATCH")]
    [InlineData("DELETE")]
    public void A_standard_method_is_net_s_shared_instance(string method)
    {
        var made = HttpAdapter.MethodOf(method);

        Assert.Same(HttpMethod.Parse(method), made);
        Assert.Equal(method, made.Method);
    }

    [Theory]
    [InlineData("post")]
    [InlineData("Put")]
    [InlineData("PURGE")]
    [InlineData("X-CUSTOM")]
    public void Any_other_method_is_sent_as_written(string method)
    {
        Assert.Equal(method, HttpAdapter.MethodOf(method).Method);
    }
}
