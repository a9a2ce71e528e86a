using System.Net;
using Relay.Testing;

namespace Relay.Silo.Tests;

public sealed class HealthTests : IAsyncLifetime
{
    private TestSilo _silo = null!;

    public async Task InitializeAsync() => _silo = await TestSilo.StartAsync(new Dictionary<string, string?>());

    public async Task DisposeAsync() => await _silo.DisposeAsync();

    [Fact]
    public async Task A_started_silo_with_reachable_storage_is_Ready()
    {
        using var response = await _silo.Client.GetAsync("/health");

        var body = await TestSilo.ReadAsync(response);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Ready", (string?)body["status"]);
        Assert.Equal("Reachable", (string?)body["storage"]);
        Assert.Equal("Active", (string?)body["silo"]);
    }
}
