using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Relay.Silo.Tests.Performance;

/// <summary>
/// The allocation budget of the hot path (issue 14): bytes the process allocates per message delivered at its first
/// attempt, through a real silo on SQLite to a real HTTP sink on loopback. Every allocation is garbage the GC must
/// collect, and GC pauses are the tail of the sync answer: a change that puts a buffer, a copy or a reflection path
/// back on the hot path shows here before it shows in a benchmark.
/// </summary>
[Collection(PerformanceCollection.Name)]
public sealed class AllocationBudgetTests(ITestOutputHelper output)
{
    /// <summary>
    /// The bound per message: 61.7 KB measured when this test was written (docs/BENCHMARKS.md, "Issue 14"), about 126 KB
    /// before the answer's body was read into a pooled buffer, 44.3-45.3 KB since one activation serves a message and the
    /// SQLite writer binds its statements through SQLitePCL and the delivery state is serialized without copies, 37.7-38.9
    /// KB since a silo without keys runs no ASP.NET Core authentication and the grain references, the content hash and
    /// the attempt's awaits lost their allocations, 33.6 KB since the answer is written by generated code, the
    /// dashboard's filter stands aside while nobody watches and a silo alone in its cluster sends no placement hint; the
    /// margin (15%) covers the run-to-run spread and the process's background work (schedulers, timers). Issue 14's
    /// target is 30 KB in the benchmark's Release silo: 27.45 KB measured (docs/BENCHMARKS.md).
    /// </summary>
    private const double MaxKilobytesPerMessage = 39;

    /// <summary>
    /// The bound per message sent with SOAP <c>Send</c>: 163.6 KB through SoapCore, 70.7 KB on the fast path of issue 14
    /// item 5 (<c>SoapSendFastPath</c>) when this was written (docs/BENCHMARKS.md, "Issue 14"), 53.1-53.7 KB with one
    /// activation per message and the SQLite storage's changes, 46.5-47.6 KB with the changes above, 44.3 KB with the
    /// last three; the same margin.
    /// </summary>
    private const double MaxKilobytesPerSoapMessage = 51;

    private const int WarmUp = 600;
    private const int Measured = 2_000;
    private const int Senders = 16;

    [Fact]
    public async Task A_message_delivered_at_its_first_attempt_allocates_within_the_budget()
    {
        var relay = await MeasureKilobytesPerMessageAsync("/messages", Json);
        Assert.True(relay <= MaxKilobytesPerMessage,
            $"Relay allocated {relay:F1} KB per delivered message; the budget is {MaxKilobytesPerMessage} KB.");
    }

    [Fact]
    public async Task A_SOAP_Send_delivered_at_its_first_attempt_allocates_within_the_budget()
    {
        var relay = await MeasureKilobytesPerMessageAsync("/Messaging.svc", SoapSend);
        Assert.True(relay <= MaxKilobytesPerSoapMessage,
            $"Relay allocated {relay:F1} KB per message sent with SOAP Send; the budget is {MaxKilobytesPerSoapMessage} KB.");
    }

    /// <summary>
    /// Bytes Relay allocates per message sent to <paramref name="path"/> and delivered at its first attempt, after a
    /// warm-up: the process's allocations, less those of the same requests sent straight to the sink (what the test's
    /// client and the sink's server cost).
    /// </summary>
    private async Task<double> MeasureKilobytesPerMessageAsync(string path, Func<Uri, string, HttpRequestMessage> request)
    {
        await using var sink = await Sink.StartAsync();
        await using var silo = await TestSilo.StartAsync(new SiloSettings()
            .Destination("sink", sink.Url + "/in"));
        using var client = new HttpClient { BaseAddress = silo.Client.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        var prefix = "alloc-" + Guid.NewGuid().ToString("N")[..8];

        // What the test itself costs per message (its client's request and answer, the sink's server): the same
        // requests straight to the sink, measured alike and taken off Relay's figure.
        await SendAsync(client, new Uri(sink.Url + "/direct"), request, prefix + "-wd", WarmUp);
        var (harness, harnessCpu) = await MeasureAsync(() => SendAsync(client, new Uri(sink.Url + "/direct"), request, prefix + "-d", Measured));

        await SendAsync(client, new Uri(path, UriKind.Relative), request, prefix + "-w", WarmUp);
        var delivered = sink.Count;
        var (total, totalCpu) = await MeasureAsync(() => SendAsync(client, new Uri(path, UriKind.Relative), request, prefix + "-m", Measured));
        Assert.Equal(Measured, sink.Count - delivered);

        // The CPU figure is only indicative (the box is shared); the bytes are what the test holds to.
        var relay = (total - harness) / Measured / 1024;
        output.WriteLine($"{path}: Relay allocated {relay:F1} KB per delivered message (process {total / Measured / 1024:F1} KB, the test's client and sink "
            + $"{harness / Measured / 1024:F1} KB); process CPU {(totalCpu - harnessCpu).TotalMilliseconds / Measured:F3} ms per message less the harness's.");
        return relay;
    }

    private static async Task<(double Bytes, TimeSpan Cpu)> MeasureAsync(Func<Task> work)
    {
        var cpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
        var before = GC.GetTotalAllocatedBytes(precise: true);
        await work();
        return (GC.GetTotalAllocatedBytes(precise: true) - before, System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - cpu);
    }

    /// <summary><paramref name="count"/> messages of 100 bytes to sink, over <see cref="Senders"/> senders; each must be answered 200.</summary>
    private static Task SendAsync(HttpClient client, Uri uri, Func<Uri, string, HttpRequestMessage> request, string prefix, int count)
    {
        var next = -1;
        return Task.WhenAll(Enumerable.Range(0, Senders).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                using var message = request(uri, $"{prefix}-{i}");
                using var response = await client.SendAsync(message);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                await response.Content.ReadAsByteArrayAsync();
            }
        }));
    }

    private static HttpRequestMessage Json(Uri uri, string id)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(
            $$"""{"id":"{{id}}","destination":"sink","payload":"{{new string('x', 100)}}","contentType":"text/plain"}"""));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return new HttpRequestMessage(HttpMethod.Post, uri) { Content = content };
    }

    /// <summary>The same message as <see cref="Json"/>, as a stock WCF client (BasicHttpBinding) sends it.</summary>
    private static HttpRequestMessage SoapSend(Uri uri, string id)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(
            $"""<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><Send xmlns="urn:relay:messaging:v1"><request xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><Id>{id}</Id><Destination>sink</Destination><Payload>{new string('x', 100)}</Payload><ContentType>text/plain</ContentType></request></Send></s:Body></s:Envelope>"""));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("text/xml; charset=utf-8");
        var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = content };
        request.Headers.TryAddWithoutValidation("SOAPAction", "\"urn:relay:messaging:v1/IMessagingService/Send\"");
        return request;
    }

    /// <summary>A destination that answers 200 with an empty body and counts what it received, allocating little.</summary>
    private sealed class Sink : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private int _count;

        private Sink(WebApplication app) => _app = app;

        public string Url { get; private set; } = "";

        public int Count => Volatile.Read(ref _count);

        public static async Task<Sink> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            var sink = new Sink(app);
            app.Run(async context =>
            {
                var reader = context.Request.BodyReader;
                while (true)
                {
                    var read = await reader.ReadAsync();
                    reader.AdvanceTo(read.Buffer.End);
                    if (read.IsCompleted)
                    {
                        break;
                    }
                }

                if (context.Request.Path.StartsWithSegments("/in"))
                {
                    Interlocked.Increment(ref sink._count);
                }

                context.Response.StatusCode = StatusCodes.Status200OK;
            });
            await app.StartAsync();
            sink.Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
            return sink;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
