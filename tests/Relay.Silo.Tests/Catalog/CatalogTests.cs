using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;

namespace Relay.Silo.Tests.Catalog;

/// <summary>
/// The catalog through the API on one silo (SQLite): entries created, changed and deleted at runtime, in force at once,
/// checked as start-up checks configuration, audited with secrets redacted (issue 18, items 1, 2 and 4).
/// </summary>
public sealed class CatalogTests : SiloFixture
{
    protected override SiloSettings Configure()
    {
        Destination.Answer("/ok", Reply.Ok());
        Destination.Answer("/down", Reply.Status503);
        return new SiloSettings { ["Relay:Topics:orders:0"] = "configured" }
            .Contract("quick", maxAttempts: 3)
            .Destination("configured", Destination.Url("/ok"), contract: "quick");
    }

    private HttpClient Client => Silo.Client;

    private Task<HttpResponseMessage> PutAsync(string path, string json, string? ifMatch = null, string? ifNoneMatch = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        if (ifNoneMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
        }

        return Client.SendAsync(request);
    }

    private async Task<JsonNode> PutOkAsync(string path, string json, HttpStatusCode expected = HttpStatusCode.Created)
    {
        using var response = await PutAsync(path, json);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"PUT {path}: {(int)response.StatusCode} {text}");
        Assert.NotNull(response.Headers.ETag);
        return JsonNode.Parse(text)!;
    }

    [Fact]
    public async Task A_destination_created_through_the_API_takes_messages_at_once()
    {
        var created = await PutOkAsync("/destinations/fresh", $$"""{"Protocol": "Http", "Address": "{{Destination.Url("/ok")}}", "Contract": "quick"}""");

        Assert.Equal("Catalog", (string?)created["source"]);
        var (response, body) = await Silo.SendAndReadAsync(new { id = "to-fresh", destination = "fresh", payload = "p" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Delivered", (string?)body["status"]);
        using var read = await Client.GetAsync("/destinations/fresh");
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal($"\"{(long)created["version"]!}\"", read.Headers.ETag!.Tag);
    }

    [Theory]
    [InlineData("""{"Address": "not a uri"}""", "Relay:Destinations:wrong:Address")]
    [InlineData("""{"Address": "http://127.0.0.1:1/x", "Contract": "nope"}""", "Relay:Destinations:wrong:Contract")]
    [InlineData("""{"Protocol": "Carrier-Pigeon", "Address": "http://127.0.0.1:1/x"}""", "Relay:Destinations:wrong:Protocol")]
    [InlineData("""{"Address": "http://127.0.0.1:1/x", "Adress": "http://127.0.0.1:1/y"}""", "Relay:Destinations:wrong:Adress")]
    [InlineData("""{"Address": "http://127.0.0.1:1/x", "SyncTimeout": "soon"}""", "Relay:Destinations:wrong:SyncTimeout")]
    public async Task A_bad_destination_is_refused_naming_the_setting_and_nothing_is_stored(string json, string key)
    {
        var problem = await ProblemAssert.IsProblemAsync(PutAsync("/destinations/wrong", json), HttpStatusCode.BadRequest);

        Assert.Contains(key, (string?)problem["title"], StringComparison.Ordinal);
        using var read = await Client.GetAsync("/destinations/wrong");
        Assert.Equal(HttpStatusCode.NotFound, read.StatusCode);
        var audit = await Client.GetFromJsonAsync<JsonNode>("/catalog/audit?name=wrong");
        Assert.Empty(audit!["items"]!.AsArray());
    }

    [Fact]
    public async Task Concurrent_updates_with_the_same_If_Match_one_wins_one_gets_412()
    {
        await PutOkAsync("/destinations/raced", $$"""{"Address": "{{Destination.Url("/ok")}}"}""");
        using var read = await Client.GetAsync("/destinations/raced");
        var etag = read.Headers.ETag!.Tag;

        var answers = await Task.WhenAll(
            PutAsync("/destinations/raced", $$"""{"Address": "{{Destination.Url("/a")}}"}""", ifMatch: etag),
            PutAsync("/destinations/raced", $$"""{"Address": "{{Destination.Url("/b")}}"}""", ifMatch: etag));

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.PreconditionFailed], answers.Select(a => a.StatusCode).Order());
        var stale = answers.Single(a => a.StatusCode == HttpStatusCode.PreconditionFailed);
        await ProblemAssert.IsProblemAsync(stale, HttpStatusCode.PreconditionFailed);
        var winner = answers.Single(a => a.StatusCode == HttpStatusCode.OK);
        using var after = await Client.GetAsync("/destinations/raced");
        Assert.Equal(winner.Headers.ETag!.Tag, after.Headers.ETag!.Tag);
        foreach (var answer in answers)
        {
            answer.Dispose();
        }
    }

    [Fact]
    public async Task Secrets_are_redacted_in_answers_and_audit_and_kept_when_sent_back_redacted()
    {
        await PutOkAsync("/destinations/keyed", $$"""{"Address": "{{Destination.Url("/ok")}}", "Headers": {"X-Key": "s3cret-value"}, "Password": "pa55word"}""");

        var shown = await Client.GetFromJsonAsync<JsonNode>("/destinations/keyed");
        Assert.Equal("***", (string?)shown!["settings"]!["Headers"]!["X-Key"]);
        Assert.Equal("***", (string?)shown["settings"]!["Password"]);
        // Edited as shown: the secrets come back as ***, and keep their values.
        var edited = shown["settings"]!.DeepClone();
        edited["Address"] = Destination.Url("/keyed");
        Destination.Answer("/keyed", Reply.Ok());
        await PutOkAsync("/destinations/keyed", edited.ToJsonString(), HttpStatusCode.OK);
        await Silo.SendAndReadAsync(new { id = "keyed-1", destination = "keyed", payload = "p" });

        Assert.Equal("s3cret-value", Assert.Single(Destination.ReceivedAt("/keyed")).Header("X-Key"));
        var audit = await Client.GetStringAsync("/catalog/audit?kind=Destination&name=keyed");
        Assert.DoesNotContain("s3cret-value", audit, StringComparison.Ordinal);
        Assert.DoesNotContain("pa55word", audit, StringComparison.Ordinal);
        var items = JsonNode.Parse(audit)!["items"]!.AsArray();
        Assert.Equal(["Updated", "Created"], items.Select(i => (string?)i!["action"]));
        Assert.Equal(Destination.Url("/keyed"), (string?)items[0]!["after"]!["Address"]);
        Assert.Equal(Destination.Url("/ok"), (string?)items[0]!["before"]!["Address"]);
        Assert.Equal("anonymous", (string?)items[0]!["by"]);
    }

    [Fact]
    public async Task Credentials_nested_in_Auth_are_redacted_in_answers_and_audit_and_kept_when_sent_back_redacted()
    {
        await PutOkAsync("/destinations/basic", $$$"""{"Address": "{{{Destination.Url("/ok")}}}", "Auth": {"Kind": "Basic", "Username": "relay", "Password": "b4sic-pa55"}}""");

        var shown = await Client.GetFromJsonAsync<JsonNode>("/destinations/basic");
        Assert.Equal("***", (string?)shown!["settings"]!["Auth"]!["Password"]);
        Assert.Equal("relay", (string?)shown["settings"]!["Auth"]!["Username"]);
        var edited = shown["settings"]!.DeepClone();
        edited["Address"] = Destination.Url("/basic");
        Destination.Answer("/basic", Reply.Ok());
        await PutOkAsync("/destinations/basic", edited.ToJsonString(), HttpStatusCode.OK);
        await Silo.SendAndReadAsync(new { id = "basic-1", destination = "basic", payload = "p" });

        var expected = "Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("relay:b4sic-pa55"));
        Assert.Equal(expected, Assert.Single(Destination.ReceivedAt("/basic")).Header("Authorization"));
        var audit = await Client.GetStringAsync("/catalog/audit?kind=Destination&name=basic");
        Assert.DoesNotContain("b4sic-pa55", audit, StringComparison.Ordinal);
        Assert.Equal(2, JsonNode.Parse(audit)!["items"]!.AsArray().Count);

        await PutOkAsync("/destinations/bearer", $$$"""{"Address": "{{{Destination.Url("/ok")}}}", "Auth": {"Kind": "Bearer", "Token": "t0ken-value"}}""");
        var bearer = await Client.GetStringAsync("/destinations/bearer");
        Assert.DoesNotContain("t0ken-value", bearer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Configuration_seeds_the_catalog()
    {
        var configured = await Client.GetFromJsonAsync<JsonNode>("/destinations/configured");

        Assert.Equal("configuration", (string?)configured!["updatedBy"]);
        Assert.Equal(Destination.Url("/ok"), (string?)configured["settings"]!["Address"]);
        var topic = await Client.GetFromJsonAsync<JsonNode>("/topics/orders");
        Assert.Equal(["configured"], topic!["settings"]!.AsArray().Select(n => (string?)n));
        var audit = await Client.GetFromJsonAsync<JsonNode>("/catalog/audit?name=configured");
        Assert.Equal("Seeded", (string?)audit!["items"]![0]!["action"]);
    }

    [Fact]
    public async Task Deleting_a_destination_that_a_topic_names_is_refused_and_a_topic_created_at_runtime_fans_out()
    {
        await PutOkAsync("/destinations/subscriber", $$"""{"Address": "{{Destination.Url("/ok")}}"}""");
        await PutOkAsync("/topics/news", """["subscriber", "configured"]""");

        var problem = await ProblemAssert.IsProblemAsync(Client.DeleteAsync("/destinations/subscriber"), HttpStatusCode.Conflict);

        Assert.Contains("Relay:Topics:news", (string?)problem["title"], StringComparison.Ordinal);
        var (_, sent) = await Silo.SendAndReadAsync(new { id = "news-1", topic = "news", payload = "p" });
        Assert.Equal(["configured", "subscriber"], sent["deliveries"]!.AsArray().Select(d => (string?)d!["destination"]).Order());
    }

    private static string[] Subscribers(JsonNode sent) => sent["subscribers"]!.AsArray().Select(n => (string)n!).ToArray();

    private async Task<string[]> SendToTopicAsync(string id, string topic, string payload, Dictionary<string, string>? headers = null)
    {
        var (response, sent) = await Silo.SendAndReadAsync(new { id, topic, payload, headers });
        Assert.True(response.IsSuccessStatusCode, $"send {id}: {(int)response.StatusCode} {sent}");
        return Subscribers(sent);
    }

    private async Task FilteredTopicSubscribersAsync()
    {
        Destination.Answer("/eu", Reply.Ok());
        Destination.Answer("/big", Reply.Ok());
        await PutOkAsync("/destinations/eu", $$"""{"Address": "{{Destination.Url("/eu")}}"}""");
        await PutOkAsync("/destinations/big", $$"""{"Address": "{{Destination.Url("/big")}}"}""");
    }

    [Fact]
    public async Task A_topic_with_filters_put_through_the_API_routes_by_header_and_by_JSON_field()
    {
        await FilteredTopicSubscribersAsync();
        var created = await PutOkAsync("/topics/sales", """
            {"Subscriptions": [
              {"Destination": "eu", "Filter": "region = 'eu'"},
              {"Destination": "big", "Filter": "amount > 100 AND kind IN ('order', 'refund')"},
              {"Destination": "configured"}]}
            """);
        Assert.Equal("region = 'eu'", (string?)created["settings"]!["Subscriptions"]![0]!["Filter"]);

        Assert.Equal(["eu", "configured"], await SendToTopicAsync("sales-header", "sales", "not JSON", new() { ["region"] = "eu" }));
        Assert.Equal(["big", "configured"], await SendToTopicAsync("sales-json", "sales", """{"region": "us", "amount": 250, "kind": "order"}"""));
        Assert.Equal(["eu", "big", "configured"], await SendToTopicAsync("sales-both", "sales", """{"amount": 101, "kind": "refund"}""", new() { ["region"] = "eu" }));
        Assert.Equal(["configured"], await SendToTopicAsync("sales-none", "sales", """{"region": "us", "amount": 100, "kind": "order"}"""));

        Assert.Equal(2, Destination.ReceivedAt("/eu").Count);
        Assert.Equal(2, Destination.ReceivedAt("/big").Count);
        var shown = await Client.GetFromJsonAsync<JsonNode>("/topics/sales");
        Assert.Equal("amount > 100 AND kind IN ('order', 'refund')", (string?)shown!["settings"]!["Subscriptions"]![1]!["Filter"]);
    }

    [Fact]
    public async Task A_malformed_filter_is_refused_naming_the_field_and_the_column_and_nothing_is_stored()
    {
        await FilteredTopicSubscribersAsync();
        await PutOkAsync("/topics/guarded", """{"Subscriptions": [{"Destination": "eu", "Filter": "region = 'eu'"}]}""");
        using var before = await Client.GetAsync("/topics/guarded");

        var problem = await ProblemAssert.IsProblemAsync(
            PutAsync("/topics/guarded", """{"Subscriptions": [{"Destination": "eu", "Filter": "region = 'eu'"}, {"Destination": "big", "Filter": "amount >> 100"}]}"""),
            HttpStatusCode.BadRequest);

        var title = (string?)problem["title"];
        Assert.Contains("Relay:Topics:guarded:Subscriptions:1:Filter", title, StringComparison.Ordinal);
        Assert.Contains("column 9", title, StringComparison.Ordinal);
        using var after = await Client.GetAsync("/topics/guarded");
        Assert.Equal(before.Headers.ETag!.Tag, after.Headers.ETag!.Tag);
        var shown = JsonNode.Parse(await after.Content.ReadAsStringAsync())!;
        Assert.Single(shown["settings"]!["Subscriptions"]!.AsArray());
        var audit = await Client.GetFromJsonAsync<JsonNode>("/catalog/audit?kind=Topic&name=guarded");
        Assert.Equal(["Created"], audit!["items"]!.AsArray().Select(i => (string?)i!["action"]));
        Assert.Equal(["eu"], await SendToTopicAsync("guarded-1", "guarded", "p", new() { ["region"] = "eu", ["amount"] = "500" }));
    }

    [Fact]
    public async Task A_topic_put_as_a_plain_list_takes_every_message_and_is_shown_as_a_list()
    {
        await FilteredTopicSubscribersAsync();
        await PutOkAsync("/topics/everything", """["eu", "big"]""");

        Assert.Equal(["eu", "big"], await SendToTopicAsync("everything-1", "everything", """{"region": "us"}"""));
        var shown = await Client.GetFromJsonAsync<JsonNode>("/topics/everything");
        Assert.Equal(["eu", "big"], shown!["settings"]!.AsArray().Select(n => (string?)n));
    }

    [Fact]
    public async Task A_changed_filter_takes_effect_for_the_next_message()
    {
        await FilteredTopicSubscribersAsync();
        var created = await PutOkAsync("/topics/shifting", """{"Subscriptions": [{"Destination": "eu", "Filter": "region = 'eu'"}]}""");
        Assert.Equal(["eu"], await SendToTopicAsync("shifting-1", "shifting", """{"region": "eu"}"""));

        var changed = await PutOkAsync("/topics/shifting", """{"Subscriptions": [{"Destination": "eu", "Filter": "region = 'us'"}]}""", HttpStatusCode.OK);

        Assert.True((long)changed["version"]! > (long)created["version"]!);
        Assert.Empty(await SendToTopicAsync("shifting-2", "shifting", """{"region": "eu"}"""));
        Assert.Equal(["eu"], await SendToTopicAsync("shifting-3", "shifting", """{"region": "us"}"""));
        Assert.Equal(2, Destination.ReceivedAt("/eu").Count);
    }

    [Fact]
    public async Task A_changed_contract_is_used_by_new_messages()
    {
        Destination.Answer("/flaky", Reply.Status503);
        await PutOkAsync("/contracts/once", """{"MaxAttempts": 1, "Delay": "00:00:01"}""");
        await PutOkAsync("/destinations/flaky", $$"""{"Address": "{{Destination.Url("/flaky")}}", "Contract": "once"}""");
        var (_, first) = await Silo.SendAndReadAsync(new { id = "flaky-1", destination = "flaky", payload = "p" });
        Assert.Equal("DeadLettered", (string?)first["status"]);

        using var read = await Client.GetAsync("/contracts/once");
        using var changed = await PutAsync("/contracts/once", """{"MaxAttempts": 5, "Delay": "00:01:00"}""", ifMatch: read.Headers.ETag!.Tag);
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        var (_, second) = await Silo.SendAndReadAsync(new { id = "flaky-2", destination = "flaky", payload = "p" });

        Assert.Equal("InRetry", (string?)second["status"]);
    }

    [Fact]
    public async Task A_delivery_in_retry_keeps_the_contract_it_was_accepted_with_while_new_messages_use_the_changed_one()
    {
        Destination.Answer("/stubborn", Reply.Status503);
        await PutOkAsync("/contracts/three", $$"""{"MaxAttempts": 3, "Delay": "{{SiloSettings.QuickDelay}}"}""");
        await PutOkAsync("/destinations/stubborn", $$"""{"Address": "{{Destination.Url("/stubborn")}}", "Contract": "three"}""");
        var (_, accepted) = await Silo.SendAndReadAsync(new { id = "stubborn-1", destination = "stubborn", payload = "p" });
        Assert.Equal("InRetry", (string?)accepted["status"]);

        await PutOkAsync("/contracts/three", $$"""{"MaxAttempts": 50, "Delay": "{{SiloSettings.QuickDelay}}"}""", HttpStatusCode.OK);
        var (_, later) = await Silo.SendAndReadAsync(new { id = "stubborn-2", destination = "stubborn", payload = "p" });

        var first = await Silo.WaitForStatusAsync("stubborn-1", "DeadLettered");
        Assert.Equal(3, (int?)first!["deliveries"]![0]!["attempts"]);
        Assert.Equal("InRetry", (string?)later["status"]);
        await Eventually.Until(async () => (int?)(await Silo.GetMessageAsync("stubborn-2"))?["deliveries"]?[0]?["attempts"] ?? 0, n => n > 3,
            what: "the new message retried beyond the old MaxAttempts");
    }

    [Fact]
    public async Task A_disabled_destination_holds_its_deliveries_until_it_is_enabled_again()
    {
        Destination.Answer("/held", Reply.Ok());
        await PutOkAsync("/destinations/held", $$"""{"Address": "{{Destination.Url("/held")}}", "Enabled": false}""");
        var (response, body) = await Silo.SendAndReadAsync(new { id = "held-1", destination = "held", payload = "p" });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("Pending", (string?)body["status"]);
        Assert.Empty(Destination.ReceivedAt("/held"));

        await PutOkAsync("/destinations/held", $$"""{"Address": "{{Destination.Url("/held")}}", "Enabled": true}""", HttpStatusCode.OK);

        await Silo.WaitForStatusAsync("held-1", "Delivered");
        Assert.Single(Destination.ReceivedAt("/held"));
    }

    [Fact]
    public async Task If_None_Match_creates_only_and_a_stale_If_Match_on_delete_gets_412()
    {
        await PutOkAsync("/contracts/lazy", """{"MaxAttempts": 2, "Delay": "00:00:01"}""");

        await ProblemAssert.IsProblemAsync(PutAsync("/contracts/lazy", """{"MaxAttempts": 3}""", ifNoneMatch: "*"), HttpStatusCode.PreconditionFailed);
        var request = new HttpRequestMessage(HttpMethod.Delete, "/contracts/lazy");
        request.Headers.TryAddWithoutValidation("If-Match", "\"1\"");
        await ProblemAssert.IsProblemAsync(Client.SendAsync(request), HttpStatusCode.PreconditionFailed);
        using var deleted = await Client.DeleteAsync("/contracts/lazy");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        using var gone = await Client.GetAsync("/contracts/lazy");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }
}

/// <summary><c>Relay:Catalog:Source=Configuration</c>: configuration is authoritative, shown as such, read-only.</summary>
public sealed class ConfigurationCatalogTests : SiloFixture
{
    protected override SiloSettings Configure() =>
        new SiloSettings { ["Relay:Catalog:Source"] = "Configuration" }
            .Destination("configured", Destination.Url("/ok"));

    [Fact]
    public async Task Entries_are_shown_as_from_configuration_and_changes_are_refused()
    {
        var configured = await Silo.Client.GetFromJsonAsync<JsonNode>("/destinations/configured");
        Assert.Equal("Configuration", (string?)configured!["source"]);

        var request = new HttpRequestMessage(HttpMethod.Put, "/destinations/configured")
        {
            Content = new StringContent("""{"Address": "http://127.0.0.1:1/x"}""", Encoding.UTF8, "application/json"),
        };
        var problem = await ProblemAssert.IsProblemAsync(Silo.Client.SendAsync(request), HttpStatusCode.Conflict);

        Assert.Contains("read-only", (string?)problem["title"], StringComparison.Ordinal);
        await ProblemAssert.IsProblemAsync(Silo.Client.DeleteAsync("/destinations/configured"), HttpStatusCode.Conflict);
    }
}
