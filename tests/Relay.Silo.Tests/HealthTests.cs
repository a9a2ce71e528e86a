using Microsoft.Data.Sqlite;

namespace Relay.Silo.Tests;

/// <summary><c>GET /health</c> on a silo without keys: everyone on loopback is an operator and sees the detail.</summary>
public sealed class HealthTests : IAsyncLifetime
{
    private TestSilo _silo = null!;

    public async Task InitializeAsync() => _silo = await TestSilo.StartAsync(new Dictionary<string, string?>
    {
        // Long enough that every probe of a test meets the same verdict.
        ["Relay:Health:WriteCheckInterval"] = "00:01:00",
    });

    public async Task DisposeAsync() => await _silo.DisposeAsync();

    [Fact]
    public async Task A_started_silo_whose_storage_reads_and_writes_is_Ready_with_the_detail()
    {
        using var response = await _silo.Client.GetAsync("/health");

        var body = await TestSilo.ReadAsync(response);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Ready", (string?)body["status"]);
        Assert.Equal("Reachable", (string?)body["storage"]);
        Assert.Equal("Accepted", (string?)body["storageWrites"]);
        Assert.NotNull(body["storageWritesCheckedAt"]);
        Assert.Equal("Active", (string?)body["silo"]);
    }

    [Fact]
    public async Task Many_probes_cost_one_storage_write_per_interval_not_one_each()
    {
        Assert.Equal(0, await HealthWritesAsync());
        var probes = await Task.WhenAll(Enumerable.Range(0, 50).Select(async _ =>
        {
            using var response = await _silo.Client.GetAsync("/health");
            return response.StatusCode;
        }));

        Assert.All(probes, status => Assert.Equal(HttpStatusCode.OK, status));
        // The first probe wrote; every other shared its verdict (or waited for it).
        Assert.Equal(1, await HealthWritesAsync());
    }

    /// <summary>The storage's count of write checks (its own row), read beside the silo.</summary>
    private async Task<long> HealthWritesAsync()
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(_silo.DataPath, "relay.db")};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT value FROM counters WHERE name = 'health'";
        return await command.ExecuteScalarAsync() is long value ? value : 0;
    }
}

/// <summary><c>GET /health</c> on a silo with keys: open to anyone (a load balancer has no key), the detail for operators only.</summary>
public sealed class KeyedHealthTests(KeyedSilo fixture) : IClassFixture<KeyedSilo>
{
    [Theory]
    [InlineData(null)]
    [InlineData("not-a-key")]
    [InlineData(KeyedSilo.ShopKey)]
    public async Task Without_an_operator_key_health_answers_its_status_only(string? key)
    {
        using var response = await fixture.CallAsync(HttpMethod.Get, "/health", key);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        Assert.Equal("Ready", (string?)body["status"]);
        Assert.Equal(["status"], body.Select(p => p.Key));
    }

    [Fact]
    public async Task An_operator_sees_the_detail()
    {
        using var response = await fixture.CallAsync(HttpMethod.Get, "/health", KeyedSilo.OpsKey);

        var body = await TestSilo.ReadAsync(response);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Ready", (string?)body["status"]);
        Assert.Equal("Accepted", (string?)body["storageWrites"]);
        Assert.Equal("Active", (string?)body["silo"]);
    }
}
