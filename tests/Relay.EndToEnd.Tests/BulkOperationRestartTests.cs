using System.Net;
using System.Net.Http.Json;
using Relay.Testing;

namespace Relay.EndToEnd.Tests;

/// <summary>
/// A bulk operation outlives its silo (issue 15, item 4): the real silo process is killed (-9) in the middle of a paced
/// resubmit and started again; the operation's stored cursor and its reminder take it on to the end, untouched by
/// any request. On SQLite and PostgreSQL (their grain storages differ).
/// </summary>
public sealed class BulkOperationRestartTests : IAsyncLifetime
{
    private const string Rejects = "/rejects";
    private readonly string _workDir = Path.Combine(Path.GetTempPath(), "relay-bulk-restart", Guid.NewGuid().ToString("N"));
    private TestDestination _destination = null!;
    private string? _connectionString;

    public async Task InitializeAsync()
    {
        _destination = await TestDestination.StartAsync();
        _destination.Answer(Rejects, new Reply(400, "no such account"));
    }

    public async Task DisposeAsync()
    {
        await _destination.DisposeAsync();
        try
        {
            Directory.Delete(_workDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private string[] Args() =>
    [
        .. _connectionString is null
            ? Array.Empty<string>()
            :
            [
                "--Relay:Storage:Provider=AdoNet",
                "--Relay:Storage:Invariant=Npgsql",
                $"--Relay:Storage:ConnectionString={_connectionString}",
                "--Relay:Storage:Migrate=true",
                "--Relay:Cluster:ClusterId=bulk-restart",
                // The restarted silo declares the killed one dead quickly (docs/OPERATIONS.md explains the settings).
                "--Relay:Cluster:Membership:ProbeTimeout=00:00:01",
                "--Relay:Cluster:Membership:NumMissedProbesLimit=2",
                "--Relay:Cluster:Membership:IAmAliveTablePublishTimeout=00:00:05",
                "--Relay:Cluster:Membership:TableRefreshTimeout=00:00:02",
            ],
        "--Relay:Scheduler:PollInterval=00:00:00.100",
        $"--Relay:Destinations:rejects:Address={_destination.Url(Rejects)}",
        "--Relay:Destinations:rejects:SyncTimeout=00:00:05",
        // Paced, so the kill lands in the middle: 1,000 deliveries take 20 s at 50 a second.
        "--Relay:Operations:MaxPerSecond=50",
        "--Relay:Operations:PageSize=50",
        "--Relay:Samples:Enabled=false",
        "--Logging:LogLevel:Default=Warning",
    ];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_resubmit_cut_by_a_kill_goes_on_after_the_restart_to_every_dead_letter_and_completes(bool postgres)
    {
        if (postgres)
        {
            _connectionString = await (await PostgresServer.Shared).CreateDatabaseAsync();
        }

        const int count = 1000;
        List<string> ids;
        string location;
        int before;
        long doneAtKill;
        await using (var silo = await SiloProcess.StartAsync(_workDir, Args()))
        {
            ids = await BulkOperationTests.DeadLetterAsync(silo.Client, "restart", count);
            before = _destination.ReceivedAt(Rejects).Count;
            using var request = new HttpRequestMessage(HttpMethod.Post, "/messages/resubmit") { Content = JsonContent.Create(new { destination = "rejects" }) };
            request.Headers.Add("Prefer", "respond-async");
            var response = await silo.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            location = response.Headers.Location!.ToString();
            var running = await Eventually.Until(async () => await TestSilo.ReadAsync(await silo.Client.GetAsync(location)),
                s => (long?)s["done"] >= 100, TimeSpan.FromSeconds(60), "a part done");
            doneAtKill = (long)running["done"]!;
            await silo.KillAsync();
        }

        Assert.InRange(doneAtKill, 100, count - 200);
        await using var restarted = await SiloProcess.StartAsync(_workDir, Args());

        // Nothing asks for the operation: its reminder brings it back (within its period, a minute).
        await Eventually.Until(() => Task.FromResult(ids.Except(_destination.ReceivedAt(Rejects).Skip(before).Select(r => r.Header("Idempotency-Key")!)).Count()),
            missing => missing == 0, TimeSpan.FromSeconds(150), "every dead letter attempted again after the restart");
        var ended = await Eventually.Until(async () => await TestSilo.ReadAsync(await restarted.Client.GetAsync(location)),
            s => (string?)s["state"] == "Completed", TimeSpan.FromSeconds(60), "the operation completed");
        Assert.Equal(count, (long?)ended["total"]);
        // The step under way at the kill may be done again: those of it already dead-lettered again are resubmitted twice.
        Assert.InRange((long)ended["done"]! + (long)ended["skipped"]!, count, count + 50);
        Assert.Equal(0, (long?)ended["failed"]);
    }
}
