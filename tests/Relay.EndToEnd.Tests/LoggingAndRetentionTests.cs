namespace Relay.EndToEnd.Tests;

public sealed class LoggingAndRetentionTests
{
    [Fact]
    public async Task Logs_name_the_message_id_and_never_carry_payloads_or_secret_headers()
    {
        await using var destination = await TestDestination.StartAsync();
        destination.Script("/bill", new Reply(503, "RESPONSE-SECRET-000"), new Reply(400, "RESPONSE-SECRET-000"));
        var logs = new CapturedLogs();
        await using var silo = await TestSilo.StartAsync(new SiloSettings
        {
            ["Relay:Destinations:billing:Headers:X-Api-Key"] = "DESTINATION-KEY-789",
        }
            .Contract("quick", 3, "00:00:00.100")
            .Destination("billing", destination.Url("/bill"), "quick"), logs: logs);

        await silo.SendAsync(new
        {
            id = "logged-1",
            destination = "billing",
            payload = "PAYLOAD-SECRET-123",
            // Not Authorization: beside the destination's own key that is refused (DESTINATIONS.md, "Headers").
            headers = new Dictionary<string, string> { ["X-Sender-Token"] = "Bearer TOKEN-SECRET-456" },
        });
        await silo.WaitForStatusAsync("logged-1", "DeadLettered");

        // The destination did get what it was meant to get...
        Assert.Equal("DESTINATION-KEY-789", destination.ReceivedAt("/bill")[0].Header("X-Api-Key"));
        Assert.Equal("Bearer TOKEN-SECRET-456", destination.ReceivedAt("/bill")[0].Header("X-Sender-Token"));
        // ...and the logs, at every level, got none of it.
        var lines = logs.Lines;
        Assert.NotEmpty(lines);
        foreach (var secret in new[] { "PAYLOAD-SECRET-123", "TOKEN-SECRET-456", "DESTINATION-KEY-789", "RESPONSE-SECRET-000" })
        {
            var leaks = lines.Where(line => line.Contains(secret, StringComparison.Ordinal)).ToList();
            Assert.True(leaks.Count == 0, $"{secret} logged in:\n{string.Join("\n", leaks)}");
        }

        // Every line the delivery grain writes names the message it is about.
        var fromDeliveries = lines.Where(l => l.Split(' ', 3)[1].StartsWith("Relay.Grains.Delivery.DeliveryGrain[", StringComparison.Ordinal)).ToList();
        Assert.Contains(fromDeliveries, l => l.Contains("dead-lettered", StringComparison.Ordinal));
        Assert.All(fromDeliveries, l => Assert.Contains("MessageId=logged-1", l, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Audit_entries_older_than_the_retention_are_removed_by_the_background_purge()
    {
        await using var destination = await TestDestination.StartAsync();
        await using var silo = await TestSilo.StartAsync(new SiloSettings
        {
            ["Relay:Audit:Retention"] = "00:00:02",
            ["Relay:Audit:PurgeInterval"] = "00:00:00.500",
        }
            .Destination("billing", destination.Url("/bill")));

        await silo.SendAsync(new { id = "old-1", destination = "billing", payload = "p" });
        var fresh = await silo.GetMessageAsync("old-1");
        Assert.Single(fresh!["attempts"]!.AsArray());

        var purged = await Eventually.Until(() => silo.GetMessageAsync("old-1"), m => m!["attempts"]!.AsArray().Count == 0, what: "audit of old-1 purged");
        // The delivery itself stays: only its audit trail ages out.
        Assert.Equal("Delivered", (string?)purged!["status"]);
    }
}
