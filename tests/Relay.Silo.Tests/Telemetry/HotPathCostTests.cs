using Microsoft.Extensions.DependencyInjection;
using Relay.Core.Telemetry;

namespace Relay.Silo.Tests.Telemetry;

/// <summary>What Relay's instruments cost a message, measured on a real silo with its exporter listening.</summary>
[Collection(TelemetryCollection.Name)]
public sealed class HotPathCostTests
{
    [Fact]
    public async Task Recording_a_messages_metrics_allocates_nothing()
    {
        await using var silo = await TestSilo.StartAsync(new SiloSettings()
            .Destination("cost", "http://127.0.0.1:9/never"));
        var metrics = silo.Services.GetRequiredService<RelayMetrics>();
        // Make /metrics collect once, so that the exporter is attached as in production.
        (await silo.Client.GetAsync("/metrics")).EnsureSuccessStatusCode();

        void RecordOneMessage()
        {
            metrics.MessageAccepted("cost", topic: null);
            metrics.AttemptMade("cost", AttemptOutcome.RetryableFailure, TimeSpan.FromMilliseconds(3));
            metrics.AttemptMade("cost", AttemptOutcome.Success, TimeSpan.FromMilliseconds(2));
            metrics.DeliveryCompleted("cost", DeliveryStatus.Delivered);
            metrics.SendAnswered(Relay.Silo.Messaging.MessageService.HttpFrontDoor, DeliveryStatus.InRetry, null, TimeSpan.FromMilliseconds(5));
        }

        for (var i = 0; i < 1_000; i++)
        {
            RecordOneMessage();
        }

        const int messages = 10_000;
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < messages; i++)
        {
            RecordOneMessage();
        }

        var perMessage = (GC.GetAllocatedBytesForCurrentThread() - before) / (double)messages;
        Assert.True(perMessage < 1, $"Recording one message's metrics allocated {perMessage:F1} bytes.");
    }
}
