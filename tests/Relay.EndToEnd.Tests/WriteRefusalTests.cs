using Microsoft.Data.Sqlite;
using Npgsql;

namespace Relay.EndToEnd.Tests;

/// <summary>
/// What a destination answers is stored whatever its bytes, and a delivery whose outcome the database refuses is
/// parked, not attempted again at every poll: on a real silo, on each backend (subclasses), through the HTTP API.
/// </summary>
public abstract class WriteRefusalTests : IAsyncLifetime
{
    /// <summary>"ok", NUL, a byte that is never UTF-8, and the first byte of a character cut short.</summary>
    private static readonly byte[] NulBody = [(byte)'o', (byte)'k', 0, 0xFF, 0xC3];

    private const string NulBodyText = "ok\\x00\\xFF\\xC3";

    protected TestDestination Destination { get; private set; } = null!;

    protected TestSilo Silo { get; private set; } = null!;

    /// <summary>The storage settings of the backend under test.</summary>
    protected abstract Task<Dictionary<string, string?>> StorageAsync();

    /// <summary>
    /// Makes the database refuse (as a check constraint would) every state of the delivery of <paramref name="messageId"/>
    /// that holds a response body, the way it refused a body with a NUL before ResponseText.
    /// </summary>
    protected abstract Task RefuseResponsesAsync(string messageId);

    protected abstract Task AllowResponsesAgainAsync();

    public async Task InitializeAsync()
    {
        Destination = await TestDestination.StartAsync();
        var settings = await StorageAsync();
        settings["Relay:Contracts:quick:MaxAttempts"] = "3";
        settings["Relay:Contracts:quick:Delay"] = "00:00:00.300";
        settings["Relay:Destinations:answering:Address"] = Destination.Url("/answer");
        settings["Relay:Destinations:answering:Contract"] = "quick";
        settings["Relay:Destinations:refusing:Address"] = Destination.Url("/refuse");
        settings["Relay:Destinations:refusing:Contract"] = "quick";
        settings["Relay:Destinations:refusing:NotifyOn"] = "Always";
        settings["Relay:Destinations:hook:Address"] = Destination.Url("/hook");
        settings["Relay:Destinations:witness:Address"] = Destination.Url("/witness");
        settings["Relay:Destinations:witness:Contract"] = "quick";
        Silo = await TestSilo.StartAsync(settings);
        await Silo.WaitForSchedulersAsync();
    }

    public async Task DisposeAsync()
    {
        await Silo.DisposeAsync();
        await Destination.DisposeAsync();
    }

    [Fact]
    public async Task A_200_with_NUL_and_bytes_that_are_not_UTF8_in_its_body_is_Delivered_and_the_body_shown_escaped()
    {
        var id = NewId("nul-200");
        Destination.Script("/answer", new Reply(200) { Bytes = NulBody });

        var (response, sent) = await Silo.SendAndReadAsync(new { id, destination = "answering", payload = "p" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Delivered", (string?)sent["status"]);
        Assert.Equal(NulBodyText, (string?)sent["deliveries"]![0]!["response"]!["body"]);
        var stored = await Silo.GetMessageAsync(id);
        Assert.Equal("Delivered", (string?)stored!["status"]);
        Assert.Equal(NulBodyText, (string?)stored["deliveries"]![0]!["response"]!["body"]);
        Assert.Equal(NulBodyText, (string?)Assert.Single(stored["attempts"]!.AsArray())!["responseBody"]);
        Assert.Contains(NulBodyText, await PortalPageAsync(id));
        Assert.Single(RequestsOf(id));
    }

    [Fact]
    public async Task A_503_with_such_a_body_is_InRetry_then_retried_by_its_contract_not_at_every_poll()
    {
        var id = NewId("nul-503");
        Destination.Answer("/answer", new Reply(503) { Bytes = NulBody });

        var (response, sent) = await Silo.SendAndReadAsync(new { id, destination = "answering", payload = "p" });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("InRetry", (string?)sent["status"]);
        Assert.Equal(NulBodyText, (string?)sent["deliveries"]![0]!["response"]!["body"]);
        var stored = await Silo.WaitForStatusAsync(id, "DeadLettered");
        Assert.All(stored!["attempts"]!.AsArray(), a => Assert.Equal(NulBodyText, (string?)a!["responseBody"]));
        Assert.Equal(3, stored["attempts"]!.AsArray().Count);
        await SeveralPollsAsync();
        Assert.Equal(3, RequestsOf(id).Count);
        Assert.Contains(NulBodyText, await PortalPageAsync(id));
    }

    [Fact]
    public async Task A_delivery_whose_outcome_the_database_refuses_is_parked_audited_and_not_attempted_again()
    {
        var id = NewId("refused");
        await RefuseResponsesAsync(id);
        Destination.Answer("/refuse", new Reply(503, "down for maintenance"));

        var (response, sent) = await Silo.SendAndReadAsync(new { id, destination = "refusing", payload = "p" });

        // The attempt was made; its outcome (InRetry, with the body) could not be stored: parked, and said so.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("DeadLettered", (string?)sent["status"]);
        var stored = await Silo.GetMessageAsync(id);
        var delivery = stored!["deliveries"]![0]!;
        Assert.Equal("DeadLettered", (string?)delivery["status"]);
        Assert.Equal(1, (int)delivery["attempts"]!);
        Assert.Null(delivery["nextAttemptAt"]);
        var lastError = (string?)delivery["lastError"];
        Assert.StartsWith("The outcome of attempt 1 (RetryableFailure 503) could not be stored: the database refused it (23", lastError);
        Assert.DoesNotContain("down for maintenance", lastError);
        Assert.Null(delivery["response"]?["body"]);
        var parked = Assert.Single(stored["events"]!.AsArray());
        Assert.Equal("Parked", (string?)parked!["action"]);
        Assert.Equal(lastError, (string?)parked["detail"]);
        Assert.Contains("Parked", await PortalPageAsync(id));

        // Several scheduler polls later, the destination has still had the one attempt that was made.
        await SeveralPollsAsync();
        Assert.Single(RequestsOf(id));
        Assert.Equal("DeadLettered", (string?)(await Silo.GetMessageAsync(id))!["status"]);

        // Resubmittable like any dead letter, once the cause is mended.
        await AllowResponsesAgainAsync();
        Destination.Answer("/refuse", Reply.Ok());
        using var resubmit = await Silo.Client.PostAsJsonAsync($"/messages/{id}/resubmit", new { });
        Assert.True(resubmit.IsSuccessStatusCode, await resubmit.Content.ReadAsStringAsync());
        await Silo.WaitForStatusAsync(id, "Delivered");
        Assert.Equal(2, RequestsOf(id).Count);
    }

    [Fact]
    public async Task A_success_whose_outcome_the_database_refuses_stays_Delivered_says_why_is_never_sent_again_and_notifies_once()
    {
        var id = NewId("refused-200");
        await RefuseResponsesAsync(id);
        Destination.Answer("/refuse", new Reply(200, "received"));
        Destination.Answer("/hook", Reply.Ok());

        var (response, sent) = await Silo.SendAndReadAsync(new { id, destination = "refusing", payload = "p", notify = "hook" });

        // The destination has the message; only its response could not be stored: Delivered, and said so.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Delivered", (string?)sent["status"]);
        var stored = await Silo.GetMessageAsync(id);
        var delivery = stored!["deliveries"]![0]!;
        Assert.Equal("Delivered", (string?)delivery["status"]);
        var lastError = (string?)delivery["lastError"];
        Assert.StartsWith("The outcome of attempt 1 (Success 200) could not be stored: the database refused it (23", lastError);
        Assert.EndsWith("Delivered; stored without its response.", lastError);
        Assert.Null(delivery["response"]?["body"]);
        var parked = Assert.Single(stored["events"]!.AsArray());
        Assert.Equal("Parked", (string?)parked!["action"]);
        Assert.Equal(lastError, (string?)parked["detail"]);

        // Never sent again: a resubmit is refused, and the schedulers leave it alone. Its notification, once.
        using var resubmit = await Silo.Client.PostAsJsonAsync($"/messages/{id}/resubmit", new { });
        Assert.Equal(HttpStatusCode.Conflict, resubmit.StatusCode);
        await Silo.WaitForStatusAsync($"~notify:refusing:0:{id}", "Delivered");
        await SeveralPollsAsync();
        Assert.Single(RequestsOf(id));
        Assert.Equal("Delivered", (string?)(await Silo.GetMessageAsync(id))!["status"]);
        Assert.Single(Destination.ReceivedAt("/hook"), r => r.Text.Contains(id, StringComparison.Ordinal));
    }

    private static string NewId(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    private IReadOnlyList<ReceivedRequest> RequestsOf(string id) =>
        Destination.Received.Where(r => r.Header("Idempotency-Key") == id).ToList();

    /// <summary>The portal's page of the message (the silo has no keys: the portal is open on loopback).</summary>
    private async Task<string> PortalPageAsync(string id)
    {
        using var page = await Silo.Client.GetAsync($"/portal/messages/{Uri.EscapeDataString(id)}");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        return await page.Content.ReadAsStringAsync();
    }

    /// <summary>
    /// Waits, without a sleep, until the schedulers have polled several times: a witness delivery answered 503 twice
    /// reaches Delivered only through two scheduled retries (0.3 s apart, polls every 0.1 s).
    /// </summary>
    private async Task SeveralPollsAsync()
    {
        var witness = NewId("witness");
        Destination.Script("/witness", Reply.Status503, Reply.Status503, Reply.Ok());
        using var response = await Silo.SendAsync(new { id = witness, destination = "witness", payload = "w" });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await Silo.WaitForStatusAsync(witness, "Delivered");
    }
}

public sealed class SqliteWriteRefusalTests : WriteRefusalTests
{
    protected override Task<Dictionary<string, string?>> StorageAsync() => Task.FromResult(new Dictionary<string, string?>());

    protected override Task RefuseResponsesAsync(string messageId) => ExecuteAsync($"""
        CREATE TRIGGER test_refuse_insert BEFORE INSERT ON deliveries
        WHEN NEW.message_id = '{messageId}' AND NEW.response_body IS NOT NULL
        BEGIN SELECT RAISE(ABORT, 'the test refuses this response'); END;
        CREATE TRIGGER test_refuse_update BEFORE UPDATE ON deliveries
        WHEN NEW.message_id = '{messageId}' AND NEW.response_body IS NOT NULL
        BEGIN SELECT RAISE(ABORT, 'the test refuses this response'); END;
        """);

    protected override Task AllowResponsesAgainAsync() =>
        ExecuteAsync("DROP TRIGGER test_refuse_insert; DROP TRIGGER test_refuse_update;");

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(Silo.DataPath, "relay.db")};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA busy_timeout = 10000; " + sql;
        await command.ExecuteNonQueryAsync();
    }
}

public sealed class PostgresWriteRefusalTests : WriteRefusalTests
{
    private string _connectionString = "";

    protected override async Task<Dictionary<string, string?>> StorageAsync()
    {
        _connectionString = await (await PostgresServer.Shared).CreateDatabaseAsync();
        return new Dictionary<string, string?>
        {
            ["Relay:Storage:Provider"] = "AdoNet",
            ["Relay:Storage:ConnectionString"] = _connectionString,
            ["Relay:Storage:Migrate"] = "true",
        };
    }

    protected override Task RefuseResponsesAsync(string messageId) => ExecuteAsync($"""
        CREATE FUNCTION test_refuse_response() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.message_id = '{messageId}' AND NEW.response_body IS NOT NULL THEN
                RAISE EXCEPTION 'the test refuses this response' USING ERRCODE = 'check_violation';
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER test_refuse_response BEFORE INSERT OR UPDATE ON deliveries
            FOR EACH ROW EXECUTE FUNCTION test_refuse_response();
        """);

    protected override Task AllowResponsesAgainAsync() =>
        ExecuteAsync("DROP TRIGGER test_refuse_response ON deliveries; DROP FUNCTION test_refuse_response();");

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
