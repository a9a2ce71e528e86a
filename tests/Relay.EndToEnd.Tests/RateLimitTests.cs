namespace Relay.EndToEnd.Tests;

public sealed class RateLimitTests
{
    [Fact]
    public async Task MaxPerSecond_holds_for_first_attempts_and_retries_and_every_message_arrives()
    {
        await using var destination = await TestDestination.StartAsync();
        await using var silo = await TestSilo.StartAsync(new SiloSettings
        {
            ["Relay:Destinations:limited:MaxPerSecond"] = "20",
            ["Relay:Destinations:limited:SyncTimeout"] = "00:00:01",
        }
            .Destination("limited", destination.Url("/limited")));
        const int count = 80;

        var answers = await Task.WhenAll(Enumerable.Range(0, count).Select(i =>
            silo.SendAsync(new { id = $"rate-{i}", destination = "limited", payload = "p" })));

        // Those that found no token within half the SyncTimeout are accepted as Pending and sent later.
        Assert.All(answers, a => Assert.True(a.StatusCode is HttpStatusCode.OK or HttpStatusCode.Accepted, a.StatusCode.ToString()));
        Assert.Contains(answers, a => a.StatusCode == HttpStatusCode.Accepted);
        await Eventually.Until(() => destination.ReceivedAt("/limited").Select(r => r.Header("Idempotency-Key")).Distinct().Count() == count,
            TimeSpan.FromSeconds(30), "every message arrived");

        var at = destination.ReceivedAt("/limited").Select(r => r.At).Order().ToArray();
        var busiestSecond = at.Select(start => at.Count(t => t >= start && t < start.AddSeconds(1))).Max();
        // A tenth of a second's worth of tokens may be banked; 10% over the limit at most.
        Assert.True(busiestSecond <= 22, $"{busiestSecond} requests within one second; the limit is 20");
        Assert.Equal(count, at.Length);
    }

    [Fact]
    public async Task MaxConcurrency_bounds_the_attempts_in_flight_and_every_message_arrives()
    {
        await using var destination = await TestDestination.StartAsync();
        destination.Answer("/narrow", new Reply(200, "ok", Delay: TimeSpan.FromMilliseconds(300)));
        await using var silo = await TestSilo.StartAsync(new SiloSettings
        {
            ["Relay:Destinations:narrow:MaxConcurrency"] = "3",
            ["Relay:Destinations:narrow:SyncTimeout"] = "00:00:02",
        }
            .Destination("narrow", destination.Url("/narrow")));
        const int count = 24;

        await Task.WhenAll(Enumerable.Range(0, count).Select(i => silo.SendAsync(new { id = $"narrow-{i}", destination = "narrow", payload = "p" })));
        await Eventually.Until(() => destination.ReceivedAt("/narrow").Select(r => r.Header("Idempotency-Key")).Distinct().Count() == count,
            TimeSpan.FromSeconds(30), "every message arrived");

        // Each request is answered 300 ms after it arrives, and the next may start only after an answer:
        // no 300 ms window holds more than three arrivals.
        var at = destination.ReceivedAt("/narrow").Select(r => r.At).Order().ToArray();
        var most = at.Select(start => at.Count(t => t >= start && t < start.AddMilliseconds(290))).Max();
        Assert.True(most <= 3, $"{most} requests in flight at once; MaxConcurrency is 3");
    }
}
