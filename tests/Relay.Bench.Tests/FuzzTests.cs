using System.Text.Json.Nodes;

namespace Relay.Bench.Tests;

/// <summary>
/// The short version of bench/fuzz.sh: relay-fuzz's generated and mutated requests (JSON API, SOAP front door, portal
/// forms) against a real silo with keys, and its checks: no 5xx, nothing stored or sent for a refused request, no
/// XML entity resolved, the silo healthy afterwards; and the silo logged no error for any of it.
/// </summary>
public sealed class FuzzTests : IAsyncLifetime
{
    private const string SenderKey = "fuzz-sender-key-0123456789";
    private const string OperatorKey = "fuzz-operator-key-0123456789";
    private readonly string _folder = TempFolder.Create("relay-fuzz-");
    private readonly CapturedLogs _logs = new();
    private readonly int _sinkPort = Ports.Free();
    private TestSilo _silo = null!;

    public async Task InitializeAsync()
    {
        _silo = await TestSilo.StartAsync(new SiloSettings
        {
            ["Relay:Security:SenderKeys:fuzz"] = SenderKey,
            ["Relay:Security:OperatorKeys:ops"] = OperatorKey,
        }
            .Destination("fz", $"http://127.0.0.1:{_sinkPort}/ok")
            .Destination("fzdead", $"http://127.0.0.1:{_sinkPort}/dead"), logs: _logs);
    }

    public async Task DisposeAsync()
    {
        await _silo.DisposeAsync();
        TempFolder.Delete(_folder);
    }

    [Fact]
    public async Task Generated_and_mutated_requests_get_no_5xx_and_refused_ones_leave_nothing_behind()
    {
        var json = Path.Combine(_folder, "fuzz.json");
        var (exit, output, errors) = await BenchTool.RunAsync("relay-fuzz.dll", TimeSpan.FromMinutes(4),
            "--url", _silo.Client.BaseAddress!.ToString(), "--sink-port", _sinkPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--sender-key", SenderKey, "--operator-key", OperatorKey, "--requests", "2500", "--seed", "11",
            "--concurrency", "8", "--progress", "0", "--json", json);

        Assert.True(exit == 0, output + errors);
        var report = JsonNode.Parse(await File.ReadAllTextAsync(json))!;
        Assert.Equal(0, (long)report["findingCount"]!);
        Assert.Equal(2500, (long)report["requests"]!);
        var checks = report["checks"]!;
        // The checks had something to check: requests accepted and delivered, refused ones looked up.
        Assert.True((int)checks["accepted"]! > 100, output);
        Assert.True((int)checks["arrivals"]! > 100, output);
        Assert.True((int)checks["refusedChecked"]! > 300, output);
        Assert.Equal(0, (int)checks["refusedStored"]!);
        Assert.Equal(0, (int)checks["unexpectedArrivals"]!);
        Assert.Equal(0, (int)checks["entityFetches"]!);
        // Every door was reached, and with refusals (not everything bounced off the first check).
        var statuses = report["byStatus"]!.AsObject().Select(s => s.Key).ToList();
        Assert.Contains(statuses, s => s.StartsWith("json 4", StringComparison.Ordinal));
        Assert.Contains(statuses, s => s == "soap 500-client-fault");
        Assert.Contains(statuses, s => s.StartsWith("portal 2", StringComparison.Ordinal));
        Assert.DoesNotContain(_logs.Lines, l => l.StartsWith("Error ", StringComparison.Ordinal) || l.StartsWith("Critical ", StringComparison.Ordinal));
    }
}
