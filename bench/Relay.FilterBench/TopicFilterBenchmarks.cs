using System.Text;
using BenchmarkDotNet.Attributes;
using Relay.Core.Topics;

namespace Relay.FilterBench;

/// <summary>
/// One message routed through a topic of 50 filtered subscribers: what acceptance adds for a topic with filters
/// (docs/BENCHMARKS.md, target: under 50 µs per message). Each operation builds the message's
/// <see cref="MessageProperties"/> afresh, so the payload's one JSON read is inside the figure.
/// </summary>
[MemoryDiagnoser]
public class TopicFilterBenchmarks
{
    private const int Subscribers = 50;

    private CompiledTopic _byHeader = null!;
    private CompiledTopic _byJson = null!;
    private CompiledTopic _mixed = null!;
    private CompiledTopic _unfiltered = null!;
    private Dictionary<string, string> _headers = null!;
    private byte[] _payload = null!;
    private readonly Dictionary<string, string> _noHeaders = new(StringComparer.OrdinalIgnoreCase);

    [GlobalSetup]
    public void Setup()
    {
        // The shapes of the examples, different per subscriber so no two filters are alike.
        _byHeader = Topic(i => $"region = 'r{i}' AND amount > {i * 10} OR [X-Priority] = 'p{i}'");
        _byJson = _byHeader;
        _mixed = Topic(i => (i % 5) switch
        {
            0 => $"region = 'r{i}' AND amount > {i * 10}",
            1 => $"EXISTS(priority) AND customer LIKE 'c-{i}%'",
            2 => $"kind IN ('a{i}', 'b{i}', 'c{i}') OR NOT (region = 'eu')",
            3 => $"(amount >= {i} AND amount < {i + 100}) OR correlationId = 'req-{i}'",
            _ => $"customer NOT LIKE '%-{i}_' AND urgent = true",
        });
        _unfiltered = CompiledTopic.Compile("orders", new TopicOptions
        {
            Subscriptions = Enumerable.Range(0, Subscribers).Select(i => new SubscriptionOptions { Destination = $"d{i}" }).ToList(),
        });
        _headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["region"] = "r7", ["amount"] = "250", ["X-Priority"] = "p3", ["X-Tenant"] = "acme",
        };
        // A realistic order event of about 1 KiB: the fields the filters read, and a nested part they skip.
        var lines = string.Join(",", Enumerable.Range(0, 12).Select(i => $$"""{"sku": "sku-{{i}}", "qty": {{i}}, "price": {{i * 3.5}}}"""));
        _payload = Encoding.UTF8.GetBytes($$"""
            {"id": "order-123", "region": "r7", "amount": 250, "kind": "b12", "customer": "c-1234", "urgent": true,
             "priority": "high", "X-Priority": "p3", "lines": [{{lines}}], "note": null}
            """);
        if (Route(_byHeader, _headers, _payload) == 0 || Route(_byJson, _noHeaders, _payload) == 0 || Route(_mixed, _noHeaders, _payload) == 0)
        {
            throw new InvalidOperationException("A benchmark routes to nobody: it would measure an early exit.");
        }
    }

    private static CompiledTopic Topic(Func<int, string> filter) => CompiledTopic.Compile("orders", new TopicOptions
    {
        Subscriptions = Enumerable.Range(0, Subscribers).Select(i => new SubscriptionOptions { Destination = $"d{i}", Filter = filter(i) }).ToList(),
    });

    private static int Route(CompiledTopic topic, Dictionary<string, string> headers, byte[] payload) =>
        topic.Route(new MessageProperties(headers, payload, "application/json", "req-9")).Count;

    [Benchmark(Baseline = true, Description = "50 subscribers, no filter")]
    public int Unfiltered() => Route(_unfiltered, _headers, _payload);

    [Benchmark(Description = "50 filters on headers")]
    public int ByHeader() => Route(_byHeader, _headers, _payload);

    [Benchmark(Description = "50 filters on JSON fields (1 KiB payload, read once)")]
    public int ByJson() => Route(_byJson, _noHeaders, _payload);

    [Benchmark(Description = "50 mixed filters (LIKE, IN, EXISTS, NOT) on JSON")]
    public int Mixed() => Route(_mixed, _noHeaders, _payload);
}
