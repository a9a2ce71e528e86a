using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Orleans;
using Orleans.Runtime;
using Relay.Testing;

namespace Relay.EndToEnd.Tests;

/// <summary>
/// Retention on a real silo (issue 15, item 9): finished messages go whole after <c>Relay:Retention:Delivered</c>, a
/// dead letter keeps its audit whatever its age, and a resubmit hands over a notification still owed.
/// </summary>
public sealed class RetentionTests : IAsyncLifetime
{
    private TestDestination _destination = null!;

    public async Task InitializeAsync() => _destination = await TestDestination.StartAsync();

    public async Task DisposeAsync() => await _destination.DisposeAsync();

    private Task<TestSilo> StartSiloAsync(Dictionary<string, string?> extra, CapturedLogs? logs = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Relay:Contracts:quick:MaxAttempts"] = "3",
            ["Relay:Contracts:quick:Delay"] = "00:00:00.200",
            ["Relay:Destinations:billing:Address"] = _destination.Url("/bill"),
            ["Relay:Destinations:billing:Contract"] = "quick",
            ["Relay:Destinations:billing:Notify"] = "callbacks",
            ["Relay:Destinations:shipping:Address"] = _destination.Url("/ship"),
            ["Relay:Destinations:shipping:Contract"] = "quick",
            ["Relay:Destinations:callbacks:Address"] = _destination.Url("/notify"),
            ["Relay:Destinations:callbacks:Contract"] = "quick",
        };
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        return TestSilo.StartAsync(settings, logs: logs);
    }

    [Fact]
    public async Task A_delivered_message_is_removed_whole_after_Retention_Delivered_while_a_dead_letter_keeps_its_audit()
    {
        _destination.Answer("/bill", Reply.Ok());
        _destination.Answer("/ship", new Reply(400, "bad"));
        await using var silo = await StartSiloAsync(new()
        {
            ["Relay:Audit:Retention"] = "00:00:01",
            ["Relay:Audit:PurgeInterval"] = "00:00:00.300",
            ["Relay:Retention:Delivered"] = "00:00:03",
        });

        var (dead, _) = await silo.SendAndReadAsync(new { id = "kept-dead", destination = "shipping", payload = "p" });
        var (delivered, _) = await silo.SendAndReadAsync(new { id = "gone-1", destination = "billing", payload = "p" });
        Assert.Equal(HttpStatusCode.OK, dead.StatusCode);
        Assert.Equal(HttpStatusCode.OK, delivered.StatusCode);
        Assert.Equal("Delivered", (string?)(await silo.GetMessageAsync("gone-1"))!["status"]);

        // Removed whole: its row (404), and with it its state and payload (a repeated send is a new message).
        await Eventually.Until(() => silo.GetMessageAsync("gone-1"), m => m is null, what: "gone-1 removed");
        // Its delivery grain may still be in memory (30 s after its last call), as it never is 7 days on: let it go.
        await silo.Services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        var (again, _) = await silo.SendAndReadAsync(new { id = "gone-1", destination = "billing", payload = "other content" });
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(2, _destination.ReceivedAt("/bill").Count);

        // The dead letter, dead-lettered before gone-1 was sent, is older than Audit:Retention by now: kept, with its audit.
        var kept = await silo.GetMessageAsync("kept-dead");
        Assert.Equal("DeadLettered", (string?)kept!["status"]);
        var attempt = Assert.Single(kept["attempts"]!.AsArray());
        Assert.Equal(400, (int?)attempt!["statusCode"]);
    }

    [Fact]
    public async Task A_resubmit_hands_over_the_notification_still_owed_for_the_status_it_ends()
    {
        var logs = new CapturedLogs();
        // A notification owed and not handed over waits for the scheduler's wake, RecoveryGrace later: an hour here.
        await using var silo = await StartSiloAsync(new() { ["Relay:Scheduler:RecoveryGrace"] = "01:00:00" }, logs);
        const string id = "owed-1";
        // The notification's hand-over fails: the database refuses to store it.
        await ExecuteAsync(silo, """
            CREATE TRIGGER test_refuse_notification BEFORE INSERT ON deliveries WHEN NEW.message_id LIKE '~notify:%'
            BEGIN SELECT RAISE(ABORT, 'the test refuses notifications'); END;
            """);
        _destination.Answer("/bill", Reply.Status503);

        await silo.SendAsync(new { id, destination = "billing", payload = "p" });
        await silo.WaitForStatusAsync(id, "DeadLettered");
        await Eventually.Until(
            () => logs.Lines.Any(l => l.Contains("MessageId=~notify:billing:0:" + id, StringComparison.Ordinal)),
            what: "the notification's hand-over refused");
        await ExecuteAsync(silo, "DROP TRIGGER test_refuse_notification;");
        _destination.Answer("/bill", Reply.Ok());

        using var resubmit = await silo.Client.PostAsJsonAsync($"/messages/{id}/resubmit", new { });
        Assert.Equal(HttpStatusCode.OK, resubmit.StatusCode);
        await silo.WaitForStatusAsync(id, "Delivered");

        // The DeadLettered notification, owed before the resubmit, arrives; the resubmitted delivery succeeded at once
        // (no InRetry since): it owes none.
        var notifications = await Eventually.Until(
            () => Task.FromResult(_destination.ReceivedAt("/notify").Select(r => JsonNode.Parse(r.Text)!).Where(n => (string?)n["id"] == id).ToList()),
            n => n.Count >= 1, what: "the owed notification");
        Assert.Equal("DeadLettered", (string?)Assert.Single(notifications)["status"]);
        Assert.Equal(3, (int?)notifications[0]["attempts"]);
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
