using System.Net;
using System.Text.Json.Nodes;
using Relay.Testing;

namespace Relay.EndToEnd.Tests;

/// <summary>
/// A contract's <c>ImmediateRetries</c> (issue 16, item 5) against a real silo and a real HTTP destination on 127.0.0.1:
/// a retryable failure is tried again at once, within the same attempt, before the delayed schedule takes over.
/// </summary>
public sealed class ImmediateRetryTests : IAsyncLifetime
{
    private TestDestination _destination = null!;
    private TestSilo _silo = null!;

    public async Task InitializeAsync()
    {
        _destination = await TestDestination.StartAsync();
        _silo = await TestSilo.StartAsync(new Dictionary<string, string?>
        {
            ["Relay:Contracts:twice:MaxAttempts"] = "3",
            ["Relay:Contracts:twice:Delay"] = "00:00:00.200",
            ["Relay:Contracts:twice:ImmediateRetries"] = "2",
            ["Relay:Contracts:once:MaxAttempts"] = "3",
            ["Relay:Contracts:once:Delay"] = "00:00:00.200",
            ["Relay:Contracts:once:ImmediateRetries"] = "1",
            ["Relay:Contracts:many:MaxAttempts"] = "3",
            ["Relay:Contracts:many:Delay"] = "00:00:00.200",
            ["Relay:Contracts:many:ImmediateRetries"] = "5",
            // Generous: the machine that runs the tests may be loaded, and the window of tries must fit in it.
            ["Relay:Destinations:twice:Address"] = _destination.Url("/twice"),
            ["Relay:Destinations:twice:Contract"] = "twice",
            ["Relay:Destinations:twice:SyncTimeout"] = "00:00:10",
            ["Relay:Destinations:once:Address"] = _destination.Url("/once"),
            ["Relay:Destinations:once:Contract"] = "once",
            ["Relay:Destinations:once:SyncTimeout"] = "00:00:10",
            ["Relay:Destinations:breaker:Address"] = _destination.Url("/breaker"),
            ["Relay:Destinations:breaker:Contract"] = "many",
            ["Relay:Destinations:breaker:SyncTimeout"] = "00:00:10",
            ["Relay:Destinations:breaker:FailureThreshold"] = "2",
            ["Relay:Destinations:breaker:BreakDuration"] = "00:10:00",
        });
    }

    public async Task DisposeAsync()
    {
        await _silo.DisposeAsync();
        await _destination.DisposeAsync();
    }

    [Fact]
    public async Task Two_immediate_retries_turn_two_503s_into_Delivered_within_the_request_with_three_tries_audited()
    {
        _destination.Script("/twice", Reply.Status503, Reply.Status503, Reply.Ok("done"));

        var (response, body) = await _silo.SendAndReadAsync(new { id = "imm-1", destination = "twice", payload = "x" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Delivered", (string?)body["status"]);
        var delivery = body["deliveries"]![0]!;
        // One contract attempt: the tries at once are inside it.
        Assert.Equal(1, (int?)delivery["attempts"]);
        Assert.Equal("done", (string?)delivery["response"]!["body"]);

        var requests = _destination.ReceivedAt("/twice");
        Assert.Equal(3, requests.Count);
        Assert.All(requests, r => Assert.Equal("imm-1", r.Header("Idempotency-Key")));
        Assert.All(requests, r => Assert.Equal("1", r.Header("X-Relay-Attempt")));

        var tries = (await _silo.GetMessageAsync("imm-1"))!["attempts"]!.AsArray();
        Assert.Equal(["RetryableFailure", "RetryableFailure", "Success"], tries.Select(a => (string?)a!["outcome"]));
        Assert.Equal([503, 503, 200], tries.Select(a => (int?)a!["statusCode"]));
        Assert.All(tries, a => Assert.Equal(1, (int?)a!["attempt"]));
    }

    [Fact]
    public async Task One_immediate_retry_is_not_enough_for_two_503s_the_delayed_retry_delivers()
    {
        _destination.Script("/once", Reply.Status503, Reply.Status503, Reply.Ok());

        var (response, body) = await _silo.SendAndReadAsync(new { id = "imm-2", destination = "once", payload = "x" });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("InRetry", (string?)body["status"]);
        Assert.Equal(1, (int?)body["deliveries"]![0]!["attempts"]);
        Assert.Equal("503 Service Unavailable", (string?)body["deliveries"]![0]!["lastError"]);
        // The first attempt's two tries (the delayed retry, 200 ms later, may already have come: it carries attempt 2).
        Assert.Equal(2, _destination.ReceivedAt("/once").Count(r => r.Header("X-Relay-Attempt") == "1"));

        var final = await _silo.WaitForStatusAsync("imm-2", "Delivered");
        Assert.Equal(2, (int?)final!["deliveries"]![0]!["attempts"]);
        Assert.Equal(["1", "1", "2"], _destination.ReceivedAt("/once").Select(r => r.Header("X-Relay-Attempt")));
        var tries = final["attempts"]!.AsArray();
        Assert.Equal([1, 1, 2], tries.Select(a => (int?)a!["attempt"]));
        Assert.Equal(["RetryableFailure", "RetryableFailure", "Success"], tries.Select(a => (string?)a!["outcome"]));
    }

    [Fact]
    public async Task A_400_is_not_retried_at_once_and_dead_letters()
    {
        _destination.Answer("/twice", new Reply(400, "bad"));

        var (response, body) = await _silo.SendAndReadAsync(new { id = "imm-3", destination = "twice", payload = "x" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("DeadLettered", (string?)body["status"]);
        Assert.Single(_destination.ReceivedAt("/twice"));
        var tries = (await _silo.GetMessageAsync("imm-3"))!["attempts"]!.AsArray();
        Assert.Equal("NonRetryableFailure", (string?)Assert.Single(tries)!["outcome"]);
    }

    [Fact]
    public async Task Immediate_retries_stop_at_the_failures_that_open_the_circuit()
    {
        _destination.Answer("/breaker", Reply.Status503);

        var (response, body) = await _silo.SendAndReadAsync(new { id = "imm-4", destination = "breaker", payload = "x" });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("InRetry", (string?)body["status"]);
        // FailureThreshold 2: the second failure opens the circuit; the other three tries at once are not made.
        Assert.Equal(2, _destination.ReceivedAt("/breaker").Count);
        var tries = (await _silo.GetMessageAsync("imm-4"))!["attempts"]!.AsArray();
        Assert.Equal(2, tries.Count);
    }
}
