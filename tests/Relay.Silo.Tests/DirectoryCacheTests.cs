using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using Orleans.Runtime.GrainDirectory;
using Relay.Core.Messages;
using Relay.Grains.Delivery;
using Relay.Grains.Destinations;
using Relay.Grains.Messages;
using Relay.Silo.Tests.Telemetry;

namespace Relay.Silo.Tests;

/// <summary>
/// Orleans's grain-directory cache on a real silo after real messages: the locations of delivery and message grains
/// (one per message) are not kept, those of the grains that stay are (Relay.Grains.OneShotGrainsUncached).
/// </summary>
public sealed class DirectoryCacheTests
{
    [Fact]
    public async Task The_directory_cache_keeps_no_delivery_or_message_grain_and_still_keeps_the_others()
    {
        await using var destination = await TestDestination.StartAsync();
        await using var silo = await TestSilo.StartAsync(new SiloSettings
        {
            ["Relay:Topics:both:0"] = "a",
            ["Relay:Topics:both:1"] = "b",
        }
            .Destination("a", destination.Url("/a"))
            .Destination("b", destination.Url("/b")));

        var ids = Enumerable.Range(0, 20).Select(i => $"cache-{i}").ToArray();
        foreach (var id in ids)
        {
            // One destination (no message grain) and a topic of two (a message grain and two deliveries).
            var (single, singleBody) = await silo.SendAndReadAsync(new { id, destination = "a", payload = "x" });
            Assert.True(single.IsSuccessStatusCode, singleBody.ToJsonString());
            var (fanned, fannedBody) = await silo.SendAndReadAsync(new { id = id + "-t", topic = "both", payload = "x" });
            Assert.True(fanned.IsSuccessStatusCode, fannedBody.ToJsonString());
        }

        Assert.Equal(ids.Length * 3, destination.Received.Count);

        // Seen from outside: Orleans's gauge of the cache's size counts the grains that stay (the schedulers, the
        // control grain, the dashboard's), not the 80 grains of these 40 messages.
        var scrape = PrometheusText.Parse(await silo.Client.GetStringAsync("/metrics"));
        Assert.True(scrape.Contains("orleans_directory_cache_size"), "No orleans_directory_cache_size on /metrics.");
        var size = scrape.Value("orleans_directory_cache_size");
        Assert.True(size < 40, $"orleans_directory_cache_size {size}");

        var grains = silo.Services.GetRequiredService<IGrainFactory>();
        var cache = silo.Services.GetRequiredService<IGrainDirectoryCache>();
        var cached = cache.KeyValues.Select(entry => entry.ActivationAddress.GrainId).ToHashSet();
        var oneShot = ids.SelectMany(id => new[]
        {
            grains.GetGrain<IDeliveryGrain>(new DeliveryKey("a", id).ToString()).GetGrainId(),
            grains.GetGrain<IDeliveryGrain>(new DeliveryKey("a", id + "-t").ToString()).GetGrainId(),
            grains.GetGrain<IDeliveryGrain>(new DeliveryKey("b", id + "-t").ToString()).GetGrainId(),
            grains.GetGrain<IMessageGrain>(id + "-t").GetGrainId(),
        }).ToArray();

        Assert.DoesNotContain(oneShot, cached.Contains);
        foreach (var grain in oneShot)
        {
            Assert.False(cache.LookUp(grain, out _, out _), $"{grain} was found in the directory cache.");
        }

        // The control grain, called by the silo every 250 ms, is still cached: the cache works for the grains that stay.
        Assert.Contains(grains.GetGrain<IDestinationControlGrain>(0).GetGrainId(), cached);
    }
}
