using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Relay.Silo.Hosting;

namespace Relay.Testing;

/// <summary>
/// A real Relay silo in this test process: the same host as <c>src/Relay.Silo</c> (Kestrel on a free port
/// of 127.0.0.1, Orleans, SQLite in a temporary folder), configured by the test.
/// </summary>
public sealed class TestSilo : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestSilo(WebApplication app, string dataPath, HttpClient client)
    {
        _app = app;
        DataPath = dataPath;
        Client = client;
    }

    public HttpClient Client { get; }

    public string DataPath { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>Where the server listens, as Kestrel reports it.</summary>
    public IReadOnlyCollection<string> Addresses => _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.ToArray();

    /// <summary>Starts a silo; <paramref name="settings"/> are configuration keys such as <c>Relay:Destinations:billing:Address</c>.</summary>
    public static async Task<TestSilo> StartAsync(IDictionary<string, string?> settings, string? dataPath = null, ILoggerProvider? logs = null,
        string urls = "http://127.0.0.1:0")
    {
        dataPath ??= TempFolder.Create("relay-tests-");
        Directory.CreateDirectory(dataPath);
        var all = new Dictionary<string, string?>
        {
            ["Relay:Storage:Provider"] = "Sqlite",
            ["Relay:Storage:DataPath"] = dataPath,
            // Tests run many silos; Normal is still crash-safe for a process (not for a power cut).
            ["Relay:Storage:SqliteSynchronous"] = "Normal",
            ["Relay:Cluster:ClusterId"] = "test-" + Guid.NewGuid().ToString("N")[..8],
            ["Relay:Cluster:SiloPort"] = Ports.Free().ToString(),
            ["Relay:Cluster:GatewayPort"] = Ports.Free().ToString(),
            ["Relay:Scheduler:PollInterval"] = "00:00:00.100",
            ["Relay:Scheduler:Shards"] = "4",
        };
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ContentRootPath = dataPath,
            EnvironmentName = "Test",
        });
        builder.Configuration.AddInMemoryCollection(all);
        builder.WebHost.UseUrls(urls);
        builder.Logging.ClearProviders();
        if (logs is null)
        {
            builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
        }
        else
        {
            builder.Logging.AddProvider(logs).SetMinimumLevel(LogLevel.Trace);
        }
        builder.AddRelay();
        var app = builder.Build();
        app.MapRelay();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()
            .Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal).Replace("[::]", "127.0.0.1", StringComparison.Ordinal);
        var client = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(60) };
        return new TestSilo(app, dataPath, client);
    }

    /// <summary>Waits until every retry scheduler has registered its reminder (they start just after the silo).</summary>
    public async Task WaitForSchedulersAsync()
    {
        var reminders = Services.GetRequiredService<Orleans.IReminderTable>();
        var shards = Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Relay.Core.Options.RelayOptions>>().Value.Scheduler.Shards;
        await Eventually.Until(async () => (await reminders.ReadRows(0, 0)).Reminders.Count, n => n >= shards, what: "retry schedulers registered");
    }

    public Task<HttpResponseMessage> SendAsync(object message) => Client.PostAsJsonAsync("/messages", message);

    public async Task<(HttpResponseMessage Response, JsonNode Body)> SendAndReadAsync(object message)
    {
        var response = await SendAsync(message);
        return (response, await ReadAsync(response));
    }

    public async Task<JsonNode?> GetMessageAsync(string id)
    {
        var response = await Client.GetAsync($"/messages/{Uri.EscapeDataString(id)}");
        return response.StatusCode == System.Net.HttpStatusCode.NotFound ? null : await ReadAsync(response);
    }

    /// <summary>Waits until the message has the status.</summary>
    public Task<JsonNode?> WaitForStatusAsync(string id, string status, TimeSpan? timeout = null) =>
        Eventually.Until(() => GetMessageAsync(id), m => (string?)m?["status"] == status, timeout, $"message {id} {status}");

    public static async Task<JsonNode> ReadAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        try
        {
            return JsonNode.Parse(text) ?? throw new InvalidOperationException("null body");
        }
        catch (JsonException)
        {
            throw new InvalidOperationException($"Not JSON ({(int)response.StatusCode}): {text}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        try
        {
            await _app.StopAsync();
        }
        finally
        {
            await _app.DisposeAsync();
        }

        // A file still held by a dying thread is left to the OS's cleaning of the temp folder.
        TempFolder.Delete(DataPath);
    }
}
