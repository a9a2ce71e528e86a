namespace Relay.Silo.Tests.Telemetry;

/// <summary>
/// W3C trace context through Relay: from the application's request to the destination, on every attempt (retries
/// from the scheduler included), and Relay's spans exported over OTLP/HTTP when configured.
/// </summary>
[Collection(TelemetryCollection.Name)]
public sealed class TracingTests : IAsyncLifetime
{
    private TestDestination _destination = null!;

    public async Task InitializeAsync() => _destination = await TestDestination.StartAsync();

    public async Task DisposeAsync() => await _destination.DisposeAsync();

    [Theory]
    [InlineData("traced")]
    [InlineData("traced-soap")]
    public async Task The_applications_traceparent_reaches_the_destination_on_every_attempt_retries_included(string destination)
    {
        await using var silo = await TestSilo.StartAsync(Settings());
        _destination.Script("/" + destination, Reply.Status503);
        var (traceId, parentSpan) = NewTrace();
        var id = "traced-" + Guid.NewGuid().ToString("N");

        var answer = await SendAsync(silo, id, traceId, parentSpan, destination);
        Assert.Equal(HttpStatusCode.Accepted, answer.StatusCode);
        await silo.WaitForStatusAsync(id, "Delivered");

        var attempts = _destination.ReceivedAt("/" + destination).Where(r => r.Header("Idempotency-Key") == id || r.Text.Contains(id, StringComparison.Ordinal)).ToArray();
        Assert.Equal(2, attempts.Length);
        var spans = attempts.Select(a => ParseTraceParent(a.Header("traceparent"))).ToArray();
        // The same trace as the application's request, the retry (made later by the scheduler) too; each attempt
        // is a span of its own, neither the application's.
        Assert.All(spans, span => Assert.Equal(traceId, span.TraceId));
        Assert.All(spans, span => Assert.NotEqual(parentSpan, span.SpanId));
        Assert.NotEqual(spans[0].SpanId, spans[1].SpanId);
    }

    [Theory]
    [InlineData("Relay:Telemetry:OtlpEndpoint")]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT")]
    public async Task With_an_OTLP_endpoint_the_send_and_attempt_spans_are_exported_in_the_applications_trace(string endpointKey)
    {
        await using var collector = await TestDestination.StartAsync();
        var settings = Settings();
        settings[endpointKey] = collector.BaseUrl;
        if (endpointKey.StartsWith("OTEL_", StringComparison.Ordinal))
        {
            // The standard variables, as the environment would give them (the SDK's default protocol is gRPC).
            settings["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
        }

        // The batch processor's standard setting: export within 100 ms rather than 5 s.
        settings["OTEL_BSP_SCHEDULE_DELAY"] = "100";
        await using var silo = await TestSilo.StartAsync(settings);
        _destination.Script("/traced", Reply.Status503);
        var (traceId, parentSpan) = NewTrace();
        var id = "exported-" + Guid.NewGuid().ToString("N");

        await SendAsync(silo, id, traceId, parentSpan);
        await silo.WaitForStatusAsync(id, "Delivered");

        var traceIdBytes = Convert.FromHexString(traceId);
        var exported = await Eventually.Until(
            () => Task.FromResult(collector.ReceivedAt("/v1/traces").Select(r => r.Body).ToArray()),
            bodies => bodies.Any(b => Contains(b, Encoding.UTF8.GetBytes(id)))
                      && bodies.Any(b => Contains(b, "relay.send"u8.ToArray()))
                      && bodies.Any(b => Contains(b, "relay.attempt"u8.ToArray()))
                      && bodies.Any(b => Contains(b, traceIdBytes)),
            what: "spans with the message id, relay.send, relay.attempt and the application's trace id at /v1/traces");
        Assert.All(collector.ReceivedAt("/v1/traces"), r => Assert.Equal("application/x-protobuf", r.Header("Content-Type")));
        Assert.NotEmpty(exported);

        // The destination saw the same trace on both attempts.
        var attempts = _destination.ReceivedAt("/traced").Where(r => r.Header("Idempotency-Key") == id).ToArray();
        Assert.Equal(2, attempts.Length);
        Assert.All(attempts, a => Assert.Equal(traceId, ParseTraceParent(a.Header("traceparent")).TraceId));
    }

    [Fact]
    public async Task With_tracing_on_a_message_sent_without_a_traceparent_starts_a_trace_the_destination_joins()
    {
        await using var collector = await TestDestination.StartAsync();
        var settings = Settings();
        settings["Relay:Telemetry:OtlpEndpoint"] = collector.BaseUrl;
        settings["OTEL_BSP_SCHEDULE_DELAY"] = "100";
        await using var silo = await TestSilo.StartAsync(settings);
        var id = "untraced-" + Guid.NewGuid().ToString("N");

        var answer = await silo.SendAsync(new { id, destination = "traced", payload = "x" });
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);

        var attempt = Assert.Single(_destination.ReceivedAt("/traced"), r => r.Header("Idempotency-Key") == id);
        var traceId = ParseTraceParent(attempt.Header("traceparent")).TraceId;
        // Relay's exported spans carry that trace id: the destination's span and Relay's are one trace.
        await Eventually.Until(
            () => Task.FromResult(collector.ReceivedAt("/v1/traces").Select(r => r.Body).ToArray()),
            bodies => bodies.Any(b => Contains(b, Convert.FromHexString(traceId)) && Contains(b, Encoding.UTF8.GetBytes(id))),
            what: $"the trace {traceId} exported with the message id");
    }

    private Dictionary<string, string?> Settings()
    {
        // The SOAP adapter shares the HTTP plumbing: its destinations get the trace too.
        _destination.Answer("/traced-soap", new Reply(200, "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body/></s:Envelope>",
            new Dictionary<string, string> { ["Content-Type"] = "text/xml; charset=utf-8" }));
        return new()
        {
            ["Relay:Contracts:twice:MaxAttempts"] = "3",
            ["Relay:Contracts:twice:Delay"] = "00:00:00.200",
            ["Relay:Destinations:traced:Address"] = _destination.Url("/traced"),
            ["Relay:Destinations:traced:Contract"] = "twice",
            ["Relay:Destinations:traced-soap:Protocol"] = "Soap",
            ["Relay:Destinations:traced-soap:Address"] = _destination.Url("/traced-soap"),
            ["Relay:Destinations:traced-soap:SoapAction"] = "urn:raw/Do",
            ["Relay:Destinations:traced-soap:Contract"] = "twice",
        };
    }

    private static (string TraceId, string SpanId) NewTrace() =>
        (Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()), Convert.ToHexStringLower(BitConverter.GetBytes(Random.Shared.NextInt64(1, long.MaxValue))));

    private static async Task<HttpResponseMessage> SendAsync(TestSilo silo, string id, string traceId, string parentSpan, string destination = "traced")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/messages")
        {
            Content = JsonContent.Create(new { id, destination, payload = "<order/>", contentType = "application/xml" }),
        };
        request.Headers.TryAddWithoutValidation("traceparent", $"00-{traceId}-{parentSpan}-01");
        return await silo.Client.SendAsync(request);
    }

    private static (string TraceId, string SpanId) ParseTraceParent(string? header)
    {
        Assert.False(string.IsNullOrEmpty(header), "The destination received no traceparent.");
        var parts = header.Split('-');
        Assert.Equal(4, parts.Length);
        Assert.Equal("00", parts[0]);
        return (parts[1], parts[2]);
    }

    private static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;
}
