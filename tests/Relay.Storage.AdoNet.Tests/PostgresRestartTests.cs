using Relay.Grains.Delivery;

namespace Relay.Storage.AdoNet.Tests;

/// <summary>The database going away under a silo: a server of its own, stopped as by a crash and started again.</summary>
public sealed class PostgresRestartTests
{
    [Fact]
    public async Task A_written_delivery_survives_a_crash_of_the_database_and_the_pool_reconnects()
    {
        await using var server = await PostgresServer.StartNewAsync();
        await using var host = await PostgresTestHost.StartAsync(await server.CreateDatabaseAsync(), migrate: true);
        var state = new DeliveryState
        {
            MessageId = "msg-" + Guid.NewGuid().ToString("N"),
            Destination = "billing",
            Payload = [1, 2, 3],
            ContentHash = "sha256:x",
            Status = DeliveryStatus.InRetry,
            AcceptedAt = new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero),
        };
        var grainId = GrainId.Create("delivery", state.Key.ToString());
        var grainState = new GrainState<DeliveryState>(state);
        await host.GrainStorage.WriteStateAsync("delivery", grainId, grainState);

        await server.StopAsync(immediate: true);
        Assert.False(await host.Storage.Store.PingAsync());
        await server.StartAsync();

        // The pool's connections died with the server; the store answers again once it has new ones.
        await Eventually.Until(() => host.Storage.Store.PingAsync(), up => up, what: "the store answers after the restart");
        var stored = await host.Storage.Store.GetMessageAsync(state.MessageId, includeAudit: false);
        Assert.Equal(DeliveryStatus.InRetry, Assert.Single(stored!.Deliveries).Status);
        state.Status = DeliveryStatus.Delivered;
        await Eventually.Until(
            async () =>
            {
                try
                {
                    await host.GrainStorage.WriteStateAsync("delivery", grainId, grainState);
                    return true;
                }
                catch (Npgsql.NpgsqlException)
                {
                    return false;
                }
            },
            written => written,
            what: "a write after the restart");
        Assert.Equal(DeliveryStatus.Delivered, Assert.Single((await host.Storage.Store.GetMessageAsync(state.MessageId, false))!.Deliveries).Status);
    }
}
