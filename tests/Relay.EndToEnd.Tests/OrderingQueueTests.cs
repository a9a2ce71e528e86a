using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Orleans;
using Orleans.Runtime;
using Orleans.Storage;
using Relay.Grains;
using Relay.Grains.Ordering;
using Relay.Testing;

namespace Relay.EndToEnd.Tests;

/// <summary>
/// Ordering queues per sender, bounded (issue 15, item 7): one sender's held key never holds another's, a full queue
/// refuses new messages with 429 and stores nothing.
/// </summary>
public sealed class OrderingQueueTests : IAsyncLifetime
{
    private const string ShopKey = "shop-key-5d1e";
    private const string OtherKey = "other-key-9a0c";
    private const string OperatorKey = "operator-key-77b2";

    private TestDestination _destination = null!;
    private TestSilo _silo = null!;

    public async Task InitializeAsync()
    {
        _destination = await TestDestination.StartAsync();
        _silo = await TestSilo.StartAsync(new Dictionary<string, string?>
        {
            ["Relay:Contracts:quick:MaxAttempts"] = "3",
            ["Relay:Contracts:quick:Delay"] = "00:00:00.200",
            ["Relay:Destinations:silent:Address"] = _destination.Url("/silent"),
            ["Relay:Destinations:silent:Contract"] = "quick",
            ["Relay:Security:SenderKeys:shop"] = ShopKey,
            ["Relay:Security:SenderKeys:other"] = OtherKey,
            ["Relay:Security:OperatorKeys:ops"] = OperatorKey,
            ["Relay:Ordering:MaxDepth"] = "3",
        });
    }

    public async Task DisposeAsync()
    {
        await _silo.DisposeAsync();
        await _destination.DisposeAsync();
    }

    private async Task<(HttpResponseMessage Response, JsonNode Body)> SendAsync(string key, string id, string orderingKey, string? payload = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/messages")
        {
            Content = JsonContent.Create(new { id, destination = "silent", payload = payload ?? id, orderingKey, notify = "none" }),
        };
        request.Headers.Add("X-Api-Key", key);
        var response = await _silo.Client.SendAsync(request);
        return (response, await TestSilo.ReadAsync(response));
    }

    private async Task<string?> StatusAsync(string id)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/messages/{id}");
        request.Headers.Add("X-Api-Key", OperatorKey);
        using var response = await _silo.Client.SendAsync(request);
        return response.StatusCode == HttpStatusCode.NotFound ? null : (string?)(await TestSilo.ReadAsync(response))["status"];
    }

    private async Task<HttpResponseMessage> OperateAsync(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(new { }) };
        request.Headers.Add("X-Api-Key", OperatorKey);
        return await _silo.Client.SendAsync(request);
    }

    private IReadOnlyList<string> Arrived(string prefix) =>
        _destination.ReceivedAt("/silent").Select(r => r.Text).Where(t => t.StartsWith(prefix, StringComparison.Ordinal)).ToList();

    [Fact]
    public async Task One_senders_dead_lettered_head_does_not_hold_back_another_senders_messages_with_the_same_key()
    {
        _destination.Script("/silent", new Reply(400, "bad"));
        var (_, head) = await SendAsync(ShopKey, "s-a1", "customer-42");
        var (_, behind) = await SendAsync(ShopKey, "s-a2", "customer-42");
        Assert.Equal("DeadLettered", (string?)head["status"]);
        Assert.Equal("Pending", (string?)behind["status"]);

        var (response, other) = await SendAsync(OtherKey, "s-b1", "customer-42");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Delivered", (string?)other["status"]);
        // The shop's own key is still held by its head.
        Assert.Equal("Pending", await StatusAsync("s-a2"));
        Assert.Equal(["s-a1", "s-b1"], Arrived("s-"));
    }

    [Fact]
    public async Task A_queue_at_MaxDepth_refuses_a_new_message_with_429_stores_nothing_and_takes_it_once_it_drains()
    {
        _destination.Script("/silent", new Reply(400, "bad"));
        await SendAsync(ShopKey, "q-1", "K");
        await SendAsync(ShopKey, "q-2", "K");
        await SendAsync(ShopKey, "q-3", "K");
        Assert.Equal("DeadLettered", await StatusAsync("q-1"));

        var (refused, problem) = await SendAsync(ShopKey, "q-4", "K");

        Assert.Equal((HttpStatusCode)429, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Contains("ordering key 'K'", (string?)problem["title"], StringComparison.Ordinal);
        Assert.Contains("Nothing was stored", (string?)problem["detail"], StringComparison.Ordinal);
        Assert.Null(await StatusAsync("q-4"));
        // A message already queued, sent again, answers its state; another sender's queue of the same key has room.
        var (repeated, repeatedBody) = await SendAsync(ShopKey, "q-2", "K");
        Assert.Equal(HttpStatusCode.Accepted, repeated.StatusCode);
        Assert.Equal("Pending", (string?)repeatedBody["status"]);
        var (others, _) = await SendAsync(OtherKey, "q-other", "K");
        Assert.Equal(HttpStatusCode.OK, others.StatusCode);

        using var discard = await OperateAsync("/messages/q-1/discard");
        Assert.Equal(HttpStatusCode.OK, discard.StatusCode);
        await Eventually.Until(() => StatusAsync("q-3"), s => s == "Delivered", what: "q-3 delivered");
        await Eventually.Until(async () => (await SendAsync(ShopKey, "q-4", "K")).Response.StatusCode, s => s == HttpStatusCode.OK, what: "q-4 accepted");

        Assert.Equal(["q-1", "q-2", "q-3", "q-4"], Arrived("q-").Where(t => t != "q-other"));
    }
}

/// <summary>An ordering queue stored by the version before queues were rows keeps working after the upgrade.</summary>
public sealed class OrderingQueueUpgradeTests : IAsyncLifetime
{
    private readonly RelayFixture _relay = new();

    public Task InitializeAsync() => _relay.InitializeAsync();

    public Task DisposeAsync() => _relay.DisposeAsync();

    [Fact]
    public async Task A_queue_stored_by_the_previous_version_is_moved_into_rows_in_its_order_and_released()
    {
        var silo = _relay.Silo;
        _relay.Destination.Script("/silent", new Reply(400, "bad"));
        foreach (var id in (string[])["u-1", "u-2", "u-3"])
        {
            await silo.SendAsync(new { id, destination = "silent", payload = id, orderingKey = "legacy", notify = "none" });
        }

        Assert.Equal("DeadLettered", (string?)(await silo.GetMessageAsync("u-1"))!["status"]);
        Assert.Equal("Pending", (string?)(await silo.GetMessageAsync("u-3"))!["status"]);

        // As the previous version left it: no rows, the queue one state of the grain 'silent/legacy', shared by every
        // sender, in Orleans's binary form; and no activation of the queue in memory.
        await ExecuteAsync(silo, "DELETE FROM ordering_queue");
        var grains = silo.Services.GetRequiredService<IGrainFactory>();
        var legacyId = GrainId.Create(grains.GetGrain<IOrderingKeyGrain>("silent/*/legacy").GetGrainId().Type, "silent/legacy");
        var storage = silo.Services.GetRequiredKeyedService<IGrainStorage>(RelayStorage.ControlName);
        await storage.WriteStateAsync("ordering", legacyId, new GrainState<OrderingKeyState>(new OrderingKeyState { Queue = ["u-1", "u-2", "u-3"] }));
        await grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

        using var discard = await silo.Client.PostAsJsonAsync("/messages/u-1/discard", new { });
        Assert.Equal(HttpStatusCode.OK, discard.StatusCode);

        await silo.WaitForStatusAsync("u-3", "Delivered");
        Assert.Equal(["u-1", "u-2", "u-3"], _relay.Destination.ReceivedAt("/silent").Select(r => r.Text).Where(t => t.StartsWith("u-", StringComparison.Ordinal)));
        var legacy = new GrainState<OrderingKeyState>(new OrderingKeyState());
        await storage.ReadStateAsync("ordering", legacyId, legacy);
        Assert.False(legacy.RecordExists);
    }

    private static async Task ExecuteAsync(TestSilo silo, string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(silo.DataPath, "relay.db")};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA busy_timeout = 10000; " + sql;
        await command.ExecuteNonQueryAsync();
    }
}
