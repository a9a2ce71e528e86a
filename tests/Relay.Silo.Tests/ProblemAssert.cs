namespace Relay.Silo.Tests;

/// <summary>Asserts that an answer is an RFC 9457 problem a person can act on.</summary>
internal static class ProblemAssert
{
    public static async Task<JsonNode> IsProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"Expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonNode.Parse(text) ?? throw new InvalidOperationException("null problem body");
        Assert.False(string.IsNullOrWhiteSpace((string?)body["title"]), $"The problem has no title: {text}");
        Assert.Equal((int)status, (int?)body["status"]);
        return body;
    }

    public static async Task<JsonNode> IsProblemAsync(Task<HttpResponseMessage> request, HttpStatusCode status)
    {
        using var response = await request;
        return await IsProblemAsync(response, status);
    }

    /// <summary>The message was not stored: a read of it answers 404.</summary>
    public static async Task NotStoredAsync(TestSilo silo, string id)
    {
        using var response = await silo.Client.GetAsync($"/messages/{Uri.EscapeDataString(id)}");
        Assert.True(response.StatusCode == HttpStatusCode.NotFound,
            $"GET /messages/{id} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }
}
