using System.Text.Json.Nodes;

namespace Relay.Adapters.Tests.Ftp;

/// <summary>Messages to an FTP destination through a real silo, to a real FTP server.</summary>
public sealed class FtpDeliveryTests : IAsyncLifetime
{
    private readonly CapturedLogs _logs = new();
    private FtpTestServer _server = null!;
    private TestSilo _silo = null!;

    public async Task InitializeAsync()
    {
        _server = await FtpTestServer.StartAsync();
        _silo = await TestSilo.StartAsync(new SiloSettings
        {
            ["Relay:Destinations:files:Protocol"] = "Ftp",
            // A bound, not a wait: the first call of a class (native library load, TLS) can be slow on a busy machine.
            ["Relay:Destinations:files:SyncTimeout"] = "00:00:10",
            ["Relay:Destinations:files:Username"] = FtpTestServer.User,
            ["Relay:Destinations:files:Password"] = FtpTestServer.Password,
            ["Relay:Destinations:files:FileName"] = "order-{id}.json",
            ["Relay:Destinations:locked:Protocol"] = "Ftp",
            // A bound, not a wait: the first call of a class (native library load, TLS) can be slow on a busy machine.
            ["Relay:Destinations:locked:SyncTimeout"] = "00:00:10",
            ["Relay:Destinations:locked:Username"] = FtpTestServer.User,
            ["Relay:Destinations:locked:Password"] = FtpTestServer.Password,
        }
            .Contract("quick", 20)
            .Destination("files", _server.Url("inbox"), "quick")
            .Destination("locked", _server.Url("readonly"), "quick"), logs: _logs);
    }

    public async Task DisposeAsync()
    {
        await _silo.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task A_message_is_Delivered_as_a_file_and_its_audit_shows_the_226()
    {
        var (response, body) = await _silo.SendAndReadAsync(new { id = "ftp-1", destination = "files", payload = "{\"amount\": 200}" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Delivered", (string?)body["status"]);
        var delivery = body["deliveries"]![0]!;
        Assert.Equal(226, (int?)delivery["response"]!["statusCode"]);
        Assert.Equal("inbox/order-ftp-1.json", (string?)delivery["response"]!["headers"]!["File"]);
        Assert.Equal(["order-ftp-1.json"], _server.Files("inbox"));
        Assert.Equal("{\"amount\": 200}", Encoding.UTF8.GetString(_server.Read("inbox", "order-ftp-1.json")));

        var attempt = Assert.Single((await _silo.GetMessageAsync("ftp-1"))!["attempts"]!.AsArray())!;
        Assert.Equal("Success", (string?)attempt["outcome"]);
        Assert.Equal(226, (int?)attempt["statusCode"]);
        Assert.Contains("> STOR inbox/order-ftp-1.json", (string?)attempt["responseBody"]);
    }

    [Fact]
    public async Task With_the_server_stopped_it_goes_InRetry_and_after_a_restart_it_is_Delivered()
    {
        await _server.StopAsync();

        var (response, body) = await _silo.SendAndReadAsync(new { id = "ftp-down-1", destination = "files", payload = "after restart" });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("InRetry", (string?)body["status"]);
        Assert.Equal("Connection refused", (string?)body["deliveries"]![0]!["lastError"]);

        await _server.StartAgainAsync();
        var final = await _silo.WaitForStatusAsync("ftp-down-1", "Delivered");

        Assert.True((int?)final!["deliveries"]![0]!["attempts"] >= 2);
        Assert.Equal(["order-ftp-down-1.json"], _server.Files("inbox"));
        Assert.Equal("after restart", Encoding.UTF8.GetString(_server.Read("inbox", "order-ftp-down-1.json")));
        Assert.DoesNotContain(_logs.Lines, line => line.Contains(FtpTestServer.Password, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_reply_lost_after_the_write_is_retried_and_the_retry_overwrites_the_same_file()
    {
        // The test server answers 451 to the first upload of a 'flaky' file, after writing it.
        var (response, body) = await _silo.SendAndReadAsync(new { id = "flaky-7", destination = "files", payload = "complete content" });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.StartsWith("451 ", (string?)body["deliveries"]![0]!["lastError"]);
        Assert.Equal(["order-flaky-7.json"], _server.Files("inbox"));

        var final = await _silo.WaitForStatusAsync("flaky-7", "Delivered");

        var attempts = final!["attempts"]!.AsArray();
        Assert.Equal([451, 226], attempts.Select(a => (int?)a!["statusCode"]));
        Assert.Equal(["order-flaky-7.json"], _server.Files("inbox"));
        Assert.Equal("complete content", Encoding.UTF8.GetString(_server.Read("inbox", "order-flaky-7.json")));
    }

    [Fact]
    public async Task Permission_denied_dead_letters_at_once_with_the_550()
    {
        var (response, body) = await _silo.SendAndReadAsync(new { id = "ftp-denied-1", destination = "locked", payload = "x" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("DeadLettered", (string?)body["status"]);
        var delivery = body["deliveries"]![0]!;
        Assert.Equal(1, (int?)delivery["attempts"]);
        Assert.StartsWith("550 ", (string?)delivery["lastError"]);
        var attempt = Assert.Single((await _silo.GetMessageAsync("ftp-denied-1"))!["attempts"]!.AsArray())!;
        Assert.Equal("NonRetryableFailure", (string?)attempt["outcome"]);
        Assert.Equal(550, (int?)attempt["statusCode"]);
        Assert.Empty(_server.Files("readonly"));
    }
}
