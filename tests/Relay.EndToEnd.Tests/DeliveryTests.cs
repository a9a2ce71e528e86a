namespace Relay.EndToEnd.Tests;

/// <summary>The durable core against a real silo and a real HTTP destination on 127.0.0.1.</summary>
public sealed class DeliveryTests : IAsyncLifetime
{
    private TestDestination _destination = null!;
    private TestSilo _silo = null!;

    public async Task InitializeAsync()
    {
        _destination = await TestDestination.StartAsync();
        _silo = await TestSilo.StartAsync(new SiloSettings
        {
            ["Relay:Contracts:linear:Backoff"] = "Linear",
            ["Relay:Destinations:billing:Notify"] = "callbacks",
            ["Relay:Destinations:billing:SyncTimeout"] = "00:00:01",
            ["Relay:Destinations:always:Notify"] = "callbacks",
            ["Relay:Destinations:always:NotifyOn"] = "Always",
            ["Relay:Topics:order.created:0"] = "billing",
            ["Relay:Topics:order.created:1"] = "shipping",
        }
            .Contract("quick", 3)
            .Contract("linear", 5, "00:00:00.400")
            .Destination("billing", _destination.Url("/bill"), "quick")
            .Destination("shipping", _destination.Url("/ship"), "quick")
            .Destination("always", _destination.Url("/always"), "quick")
            .Destination("callbacks", _destination.Url("/notify"), "quick")
            .Destination("nowhere", $"http://127.0.0.1:{Ports.Free()}/closed", "quick"));
    }

    public async Task DisposeAsync()
    {
        await _silo.DisposeAsync();
        await _destination.DisposeAsync();
    }

    [Fact]
    public async Task Delivered_at_once_answers_200_with_the_destination_response_and_the_contract_headers()
    {
        _destination.Answer("/bill", new Reply(201, "{\"invoice\":7}", new Dictionary<string, string> { ["Location"] = "/invoices/7" }));

        var (response, body) = await _silo.SendAndReadAsync(new
        {
            id = "order-123",
            destination = "billing",
            payload = "{\"amount\": 200}",
            contentType = "application/json",
            headers = new Dictionary<string, string> { ["X-Tenant"] = "acme" },
            correlationId = "req-9",
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Delivered", (string?)body["status"]);
        Assert.Equal("order-123", (string?)body["id"]);
        var delivery = body["deliveries"]![0]!;
        Assert.Equal("billing", (string?)delivery["destination"]);
        Assert.Equal("Delivered", (string?)delivery["status"]);
        Assert.Equal(1, (int?)delivery["attempts"]);
        Assert.Equal(201, (int?)delivery["response"]!["statusCode"]);
        Assert.Equal("{\"invoice\":7}", (string?)delivery["response"]!["body"]);
        Assert.Equal("/invoices/7", (string?)delivery["response"]!["headers"]!["Location"]);

        var received = Assert.Single(_destination.ReceivedAt("/bill"));
        Assert.Equal("POST", received.Method);
        Assert.Equal("{\"amount\": 200}", received.Text);
        Assert.StartsWith("application/json", received.Header("Content-Type"));
        Assert.Equal("acme", received.Header("X-Tenant"));
        Assert.Equal("order-123", received.Header("Idempotency-Key"));
        Assert.Equal("1", received.Header("X-Relay-Attempt"));
        Assert.Equal("req-9", received.Header("X-Relay-Correlation-Id"));
    }

    [Fact]
    public async Task A_retryable_failure_answers_202_InRetry_then_a_later_attempt_delivers_with_the_same_idempotency_key()
    {
        _destination.Script("/ship", Reply.Status503, Reply.Status503, Reply.Ok());

        var (response, body) = await _silo.SendAndReadAsync(new { id = "retry-1", destination = "shipping", payload = "box" });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("InRetry", (string?)body["status"]);
        var delivery = body["deliveries"]![0]!;
        Assert.Equal(1, (int?)delivery["attempts"]);
        Assert.Equal("503 Service Unavailable", (string?)delivery["lastError"]);
        Assert.NotNull(delivery["nextAttemptAt"]);

        var final = await _silo.WaitForStatusAsync("retry-1", "Delivered");
        Assert.Equal(3, (int?)final!["deliveries"]![0]!["attempts"]);
        var requests = _destination.ReceivedAt("/ship");
        Assert.Equal(["1", "2", "3"], requests.Select(r => r.Header("X-Relay-Attempt")));
        Assert.All(requests, r => Assert.Equal("retry-1", r.Header("Idempotency-Key")));

        var attempts = final["attempts"]!.AsArray();
        Assert.Equal(["RetryableFailure", "RetryableFailure", "Success"], attempts.Select(a => (string?)a!["outcome"]));
        Assert.All(attempts, a => Assert.False(string.IsNullOrEmpty((string?)a!["silo"])));
        Assert.Equal(503, (int?)attempts[0]!["statusCode"]);
    }

    [Fact]
    public async Task Retries_a_503_until_MaxAttempts_then_dead_letters()
    {
        _destination.Answer("/ship", Reply.Status503);

        var (response, _) = await _silo.SendAndReadAsync(new { id = "dead-1", destination = "shipping", payload = "box" });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        var final = await _silo.WaitForStatusAsync("dead-1", "DeadLettered");
        var delivery = final!["deliveries"]![0]!;
        Assert.Equal(3, (int?)delivery["attempts"]);
        Assert.Null(delivery["nextAttemptAt"]);
        Assert.Equal(3, _destination.ReceivedAt("/ship").Count);
        Assert.Equal(3, final["attempts"]!.AsArray().Count);
    }

    [Fact]
    public async Task A_non_retryable_4xx_dead_letters_at_once_and_answers_200()
    {
        _destination.Answer("/ship", new Reply(422, "bad amount"));

        var (response, body) = await _silo.SendAndReadAsync(new { id = "final-1", destination = "shipping", payload = "box" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("DeadLettered", (string?)body["status"]);
        Assert.Equal(1, (int?)body["deliveries"]![0]!["attempts"]);
        Assert.StartsWith("422", (string?)body["deliveries"]![0]!["lastError"]);
        Assert.Single(_destination.ReceivedAt("/ship"));
    }

    [Fact]
    public async Task A_destination_slower_than_SyncTimeout_is_answered_InRetry_within_the_bound()
    {
        _destination.Script("/bill", new Reply(200, "late", Delay: TimeSpan.FromSeconds(5)));

        var started = System.Diagnostics.Stopwatch.StartNew();
        var (response, body) = await _silo.SendAndReadAsync(new { id = "slow-1", destination = "billing", payload = "x" });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(4), $"answered after {started.Elapsed}");
        Assert.Contains("timeout", (string?)body["deliveries"]![0]!["lastError"], StringComparison.OrdinalIgnoreCase);
        await _silo.WaitForStatusAsync("slow-1", "Delivered");
    }

    [Fact]
    public async Task Connection_refused_is_retryable()
    {
        var (response, body) = await _silo.SendAndReadAsync(new { id = "refused-1", destination = "nowhere", payload = "x", notify = "none" });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("Connection refused", (string?)body["deliveries"]![0]!["lastError"]);
        await _silo.WaitForStatusAsync("refused-1", "DeadLettered");
    }

    [Fact]
    public async Task Retry_After_longer_than_the_contract_delay_is_honoured()
    {
        _destination.Script("/ship", new Reply(429, "slow down", new Dictionary<string, string> { ["Retry-After"] = "2" }));

        var (_, body) = await _silo.SendAndReadAsync(new { id = "ra-1", destination = "shipping", payload = "x" });

        var next = DateTimeOffset.Parse((string)body["deliveries"]![0]!["nextAttemptAt"]!, System.Globalization.CultureInfo.InvariantCulture);
        var accepted = DateTimeOffset.Parse((string)body["acceptedAt"]!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(next - accepted >= TimeSpan.FromSeconds(1.9), $"next attempt {next - accepted} after acceptance");
        await _silo.WaitForStatusAsync("ra-1", "Delivered");
        var requests = _destination.ReceivedAt("/ship");
        Assert.True(requests[1].At - requests[0].At >= TimeSpan.FromSeconds(1.9), $"second attempt {requests[1].At - requests[0].At} after the first");
    }

    [Fact]
    public async Task A_linear_contract_spaces_attempts_Delay_times_n()
    {
        _destination.Answer("/ship", Reply.Status503);

        await _silo.SendAsync(new { id = "linear-1", destination = "shipping", payload = "x", contract = "linear" });
        await _silo.WaitForStatusAsync("linear-1", "DeadLettered");

        var at = _destination.ReceivedAt("/ship").Select(r => r.At).ToArray();
        Assert.Equal(5, at.Length);
        // Due 400, 800, 1200, 1600 ms apart. An attempt is never early, and may be late by a poll of the scheduler
        // (100 ms) and the work around it, which on a loaded 2-core box running the suite has reached 435 ms: up to
        // 1,000 ms is allowed. That still tells the other backoffs apart: Fixed is early from the second gap on (400 ms,
        // due 800), Exponential late at the fourth (3,200 ms, above 1,600 + 1,000).
        var gaps = at.Zip(at.Skip(1), (earlier, later) => (later - earlier).TotalMilliseconds).ToArray();
        for (var n = 1; n <= gaps.Length; n++)
        {
            Assert.True(gaps[n - 1] >= 400 * n - 20 && gaps[n - 1] <= 400 * n + 1000,
                $"gap {n} is {gaps[n - 1]:0} ms, due {400 * n} ms; all gaps: {string.Join(", ", gaps.Select(g => g.ToString("0", System.Globalization.CultureInfo.InvariantCulture)))} ms");
        }

        Assert.True(gaps[3] < 3200 - 20, $"the fourth gap ({gaps[3]:0} ms) is an exponential backoff's");
    }
}
