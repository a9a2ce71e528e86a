using Npgsql;

namespace Relay.EndToEnd.Tests;

/// <summary>
/// <c>/health</c> answers NotReady when the database still answers reads but refuses writes (issue 15, item 11): on a
/// real silo and PostgreSQL, made read-only as a failover to a standby or a full disk would.
/// </summary>
public sealed class HealthWriteCheckTests : IAsyncLifetime
{
    private PostgresServer _postgres = null!;
    private string _database = "";
    private TestSilo _silo = null!;

    public async Task InitializeAsync()
    {
        _postgres = await PostgresServer.Shared;
        var connectionString = await _postgres.CreateDatabaseAsync();
        _database = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        _silo = await TestSilo.StartAsync(new Dictionary<string, string?>
        {
            ["Relay:Storage:Provider"] = "AdoNet",
            ["Relay:Storage:ConnectionString"] = connectionString,
            ["Relay:Storage:Migrate"] = "true",
            ["Relay:Health:WriteCheckInterval"] = "00:00:01",
        });
    }

    public async Task DisposeAsync()
    {
        await ReadOnlyAsync(false);
        await _silo.DisposeAsync();
    }

    [Fact]
    public async Task A_database_that_reads_but_refuses_writes_makes_the_silo_NotReady_until_it_writes_again()
    {
        var ready = await _silo.Client.GetAsync("/health");
        var body = await TestSilo.ReadAsync(ready);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("Accepted", (string?)body["storageWrites"]);

        await ReadOnlyAsync(true);

        // (The silo's pooled connections were ended: a probe or two may find the database unreachable before it reads again.)
        var failing = await Eventually.Until(HealthAsync, h => h.Status == HttpStatusCode.ServiceUnavailable && (string?)h.Body["storage"] == "Reachable",
            TimeSpan.FromSeconds(30), "NotReady, with reads answered");
        Assert.Equal("NotReady", (string?)failing.Body["status"]);
        Assert.Equal("Reachable", (string?)failing.Body["storage"]);
        Assert.Equal("Failing", (string?)failing.Body["storageWrites"]);

        await ReadOnlyAsync(false);

        await Eventually.Until(HealthAsync, h => h.Status == HttpStatusCode.OK, TimeSpan.FromSeconds(30), "Ready again");
    }

    private async Task<(HttpStatusCode Status, System.Text.Json.Nodes.JsonNode Body)> HealthAsync()
    {
        using var response = await _silo.Client.GetAsync("/health");
        return (response.StatusCode, await TestSilo.ReadAsync(response));
    }

    /// <summary>Every new transaction of the database read-only (or not), and its sessions ended so that the silo's new ones are.</summary>
    private async Task ReadOnlyAsync(bool readOnly)
    {
        await _postgres.PsqlAsync(readOnly
            ? $"ALTER DATABASE {_database} SET default_transaction_read_only = on"
            : $"ALTER DATABASE {_database} RESET default_transaction_read_only");
        await _postgres.PsqlAsync($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{_database}'");
    }
}
