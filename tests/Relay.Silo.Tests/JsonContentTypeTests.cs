using Relay.Silo.Api;

namespace Relay.Silo.Tests;

/// <summary>Which Content-Type a JSON body may be sent with: the two common spellings are known without parsing, the rest parsed.</summary>
public sealed class JsonContentTypeTests
{
    [Theory]
    [InlineData("application/json")]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("Application/JSON; Charset=UTF-8")]
    [InlineData("application/json;charset=utf-8")]
    [InlineData("application/json ; charset=\"utf-8\"")]
    [InlineData("application/problem+json")]
    [InlineData("application/vnd.relay.v1+json; q=1")]
    public void Json_and_its_plus_json_types_are_json(string contentType) =>
        Assert.True(MessageEndpoints.IsJson(contentType));

    [Theory]
    [InlineData("")]
    [InlineData("text/json")]
    [InlineData("text/plain; charset=utf-8")]
    [InlineData("application/jsonx")]
    [InlineData("application/json-seq")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("application/json; charset=utf-8 extra")]
    [InlineData("json")]
    public void Other_types_are_not(string contentType) =>
        Assert.False(MessageEndpoints.IsJson(contentType));
}
