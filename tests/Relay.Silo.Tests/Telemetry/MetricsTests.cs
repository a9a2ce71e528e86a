namespace Relay.Silo.Tests.Telemetry;

/// <summary>GET /metrics on a real silo, against real destinations: Relay's own figures move as messages go.</summary>
[Collection(TelemetryCollection.Name)]
public sealed class MetricsTests : IAsyncLifetime
{
    private const string Destination = "relay_destination";
    private const string Outcome = "relay_attempt_outcome";
    private const string Status = "relay_delivery_status";

    private TestDestination _destination = null!;
    private TestSilo _silo = null!;

    public async Task InitializeAsync()
    {
        _destination = await TestDestination.StartAsync();
        _destination.Script("/flaky", Reply.Status503);
        _destination.Answer("/dead", new Reply(400, "no such customer"));
        _destination.Answer("/stuck", Reply.Status503);
        _silo = await TestSilo.StartAsync(new SiloSettings
        {
            ["Relay:Telemetry:DeliveryCountsRefresh"] = "00:00:00.100",
        }
            .Contract("twice", 3)
            .Contract("later", 5, "01:00:00")
            .Destination("m-ok", _destination.Url("/ok"))
            .Destination("m-flaky", _destination.Url("/flaky"), "twice")
            .Destination("m-dead", _destination.Url("/dead"), "twice")
            .Destination("m-stuck", _destination.Url("/stuck"), "later"));
    }

    public async Task DisposeAsync()
    {
        await _silo.DisposeAsync();
        await _destination.DisposeAsync();
    }

    [Fact]
    public async Task Counters_histograms_and_gauges_move_with_the_messages_sent_with_their_labels()
    {
        var before = await ScrapeAsync();

        var ok = await SendAsync("m-ok", HttpStatusCode.OK, "Delivered");
        var flaky = await SendAsync("m-flaky", HttpStatusCode.Accepted, "InRetry");
        await SendAsync("m-dead", HttpStatusCode.OK, "DeadLettered");
        await SendAsync("m-stuck", HttpStatusCode.Accepted, "InRetry");
        // The same send again is answered from the store: not a new message, nothing attempted.
        Assert.Equal(HttpStatusCode.OK, (await _silo.SendAsync(new { id = ok, destination = "m-ok", payload = "x" })).StatusCode);
        await SendSoapAsync("m-ok");
        await _silo.WaitForStatusAsync(flaky, "Delivered");

        // The gauge is refreshed in the background after a scrape finds it stale: scrape until it shows the figures.
        var after = await Eventually.Until(ScrapeAsync,
            m => m.Value("relay_deliveries", (Destination, "m-stuck"), (Status, "InRetry")) == 1
                 && m.Value("relay_deliveries", (Destination, "m-dead"), (Status, "DeadLettered")) == 1,
            what: "relay_deliveries showing 1 in retry to m-stuck and 1 dead letter to m-dead");

        double Delta(string name, params (string, string)[] labels) => after.Value(name, labels) - before.Value(name, labels);

        Assert.Equal(2, Delta("relay_messages_accepted_total", (Destination, "m-ok")));
        Assert.Equal(1, Delta("relay_messages_accepted_total", (Destination, "m-flaky")));
        Assert.Equal(1, Delta("relay_messages_accepted_total", (Destination, "m-dead")));
        Assert.Equal(1, Delta("relay_messages_accepted_total", (Destination, "m-stuck")));

        Assert.Equal(2, Delta("relay_delivery_attempts_total", (Destination, "m-ok"), (Outcome, "Success")));
        Assert.Equal(1, Delta("relay_delivery_attempts_total", (Destination, "m-flaky"), (Outcome, "RetryableFailure")));
        Assert.Equal(1, Delta("relay_delivery_attempts_total", (Destination, "m-flaky"), (Outcome, "Success")));
        Assert.Equal(1, Delta("relay_delivery_attempts_total", (Destination, "m-dead"), (Outcome, "NonRetryableFailure")));
        Assert.Equal(1, Delta("relay_delivery_attempts_total", (Destination, "m-stuck"), (Outcome, "RetryableFailure")));
        Assert.Equal(0, Delta("relay_delivery_attempts_total", (Destination, "m-stuck"), (Outcome, "Success")));

        Assert.Equal(2, Delta("relay_deliveries_completed_total", (Destination, "m-ok"), (Status, "Delivered")));
        Assert.Equal(1, Delta("relay_deliveries_completed_total", (Destination, "m-flaky"), (Status, "Delivered")));
        Assert.Equal(1, Delta("relay_deliveries_completed_total", (Destination, "m-dead"), (Status, "DeadLettered")));
        Assert.Equal(0, Delta("relay_deliveries_completed_total", (Destination, "m-stuck")));

        // Histograms: one observation per attempt, in the bucket series too.
        Assert.Equal(1, Delta("relay_delivery_attempt_duration_seconds_count", (Destination, "m-flaky"), (Outcome, "RetryableFailure")));
        Assert.Equal(1, Delta("relay_delivery_attempt_duration_seconds_count", (Destination, "m-flaky"), (Outcome, "Success")));
        Assert.Equal(1, Delta("relay_delivery_attempt_duration_seconds_bucket", (Destination, "m-dead"), ("le", "+Inf")));
        Assert.True(Delta("relay_delivery_attempt_duration_seconds_sum", (Destination, "m-ok")) > 0);
        Assert.Equal("histogram", after.Types["relay_delivery_attempt_duration_seconds"]);

        // One sync answer per send, by front door and the status answered (the repeat included).
        Assert.Equal(2, Delta("relay_send_duration_seconds_count", ("relay_front_door", "http"), ("relay_message_status", "Delivered")));
        Assert.Equal(2, Delta("relay_send_duration_seconds_count", ("relay_front_door", "http"), ("relay_message_status", "InRetry")));
        Assert.Equal(1, Delta("relay_send_duration_seconds_count", ("relay_front_door", "http"), ("relay_message_status", "DeadLettered")));
        Assert.Equal(1, Delta("relay_send_duration_seconds_count", ("relay_front_door", "soap"), ("relay_message_status", "Delivered")));
        Assert.Equal("histogram", after.Types["relay_send_duration_seconds"]);

        // Gauges: what is waiting now, per destination and status; zeros where nothing is.
        Assert.Equal("gauge", after.Types["relay_deliveries"]);
        Assert.Equal(0, after.Value("relay_deliveries", (Destination, "m-ok"), (Status, "InRetry")));
        Assert.True(after.Contains("relay_deliveries", (Destination, "m-ok"), (Status, "DeadLettered")));
        Assert.Equal(0, after.Value("relay_deliveries", (Destination, "m-flaky"), (Status, "InRetry")));

        Assert.Equal("counter", after.Types["relay_delivery_attempts_total"]);
    }

    [Fact]
    public async Task The_storage_transactions_a_send_waits_for_are_measured()
    {
        const string Storage = "relay_storage";
        var before = await ScrapeAsync();

        // Stored, attempted, stored Delivered: two transactions of the SQLite writer at least, each with one write.
        await SendAsync("m-ok", HttpStatusCode.OK, "Delivered");

        var after = await ScrapeAsync();
        double Delta(string name) => after.Value(name, (Storage, "sqlite")) - before.Value(name, (Storage, "sqlite"));
        Assert.True(Delta("relay_storage_transaction_duration_seconds_count") >= 2,
            $"{Delta("relay_storage_transaction_duration_seconds_count")} transactions measured");
        Assert.True(Delta("relay_storage_transaction_duration_seconds_sum") > 0);
        Assert.True(Delta("relay_storage_transaction_writes_sum") >= 2, $"{Delta("relay_storage_transaction_writes_sum")} writes measured");
        Assert.Equal("histogram", after.Types["relay_storage_transaction_duration_seconds"]);
        Assert.Equal("histogram", after.Types["relay_storage_transaction_writes"]);
        Assert.Equal(0, after.Value("relay_storage_transaction_duration_seconds_count", (Storage, "postgresql")));
    }

    [Fact]
    public async Task A_scrape_carries_Orleans_runtime_and_ASP_NET_Core_metrics_too()
    {
        await SendAsync("m-ok", HttpStatusCode.OK, "Delivered");

        var scrape = await ScrapeAsync();

        Assert.Contains(scrape.Samples, s => s.Name.StartsWith("orleans_catalog_activation", StringComparison.Ordinal));
        Assert.Contains(scrape.Samples, s => s.Name.StartsWith("orleans_grains", StringComparison.Ordinal));
        Assert.Contains(scrape.Samples, s => s.Name.StartsWith("dotnet_gc_", StringComparison.Ordinal));
        Assert.Contains(scrape.Samples, s => s.Name.StartsWith("http_server_request_duration_seconds", StringComparison.Ordinal));
    }

    private async Task<PrometheusText> ScrapeAsync()
    {
        using var response = await _silo.Client.GetAsync("/metrics");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        return PrometheusText.Parse(text);
    }

    private async Task<string> SendAsync(string destination, HttpStatusCode expected, string status)
    {
        var id = $"{destination}-{Guid.NewGuid():N}";
        var (response, body) = await _silo.SendAndReadAsync(new { id, destination, payload = "x" });
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode} {body.ToJsonString()}");
        Assert.Equal(status, (string?)body["status"]);
        return id;
    }

    private async Task SendSoapAsync(string destination)
    {
        var id = $"soap-{Guid.NewGuid():N}";
        var envelope = "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><Send xmlns=\"urn:relay:messaging:v1\">"
            + $"<request><Id>{id}</Id><Destination>{destination}</Destination><Payload>x</Payload></request></Send></s:Body></s:Envelope>";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/Messaging.svc") { Content = new StringContent(envelope, Encoding.UTF8, "text/xml") };
        request.Headers.TryAddWithoutValidation("SOAPAction", "\"urn:relay:messaging:v1/IMessagingService/Send\"");
        using var response = await _silo.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        Assert.Contains("Delivered", text, StringComparison.Ordinal);
    }
}
