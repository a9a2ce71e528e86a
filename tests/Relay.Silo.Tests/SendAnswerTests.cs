using System.Buffers;
using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Relay.Contracts;
using Relay.Silo.Api;
using Relay.Testing;

namespace Relay.Silo.Tests;

/// <summary>A silo as it runs, for the JSON options its API serializes with.</summary>
public sealed class JsonOptionsSilo : IAsyncLifetime
{
    private TestSilo? _silo;

    public JsonSerializerOptions Options { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _silo = await TestSilo.StartAsync(new Dictionary<string, string?>());
        Options = _silo.Services.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
    }

    public async Task DisposeAsync()
    {
        if (_silo is not null)
        {
            await _silo.DisposeAsync();
        }
    }
}

/// <summary>
/// The answer of a send is written by source-generated code (<see cref="SendAnswer"/>) instead of <c>Results.Json</c>:
/// its bytes must stay those of the JSON options the silo's API is configured with, whatever the strings hold.
/// </summary>
public sealed class SendAnswerTests(JsonOptionsSilo silo) : IClassFixture<JsonOptionsSilo>
{
    private static readonly Gen<string?> Texts = Gen.OneOf(
        Gen.Constant<string?>(null),
        Gen.Elements<string?>("", "Delivered", "503 Service Unavailable", "<b>&'\"</b>", "é€日本😀", "\u0000\u001f\u007f\u2028", "a\\xFFb", "\ud800"),
        ArbMap.Default.GeneratorFor<string>().Select(s => (string?)s));

    private static readonly Gen<DateTimeOffset> Instants =
        Gen.Choose(0, int.MaxValue).Zip(Gen.Choose(-14 * 60, 14 * 60))
            .Select(p => new DateTimeOffset(DateTime.UnixEpoch.AddSeconds(p.Item1).AddTicks(p.Item1 % 10_000_000), TimeSpan.Zero)
                .ToOffset(TimeSpan.FromMinutes(p.Item2)));

    private static readonly Gen<DateTimeOffset?> MaybeInstants =
        Gen.OneOf(Gen.Constant<DateTimeOffset?>(null), Instants.Select(i => (DateTimeOffset?)i));

    private static readonly Gen<DeliveryResult> Deliveries =
        from destination in Texts
        from status in Gen.Elements(Enum.GetValues<DeliveryStatus>())
        from attempts in Gen.Choose(0, 1000)
        from next in MaybeInstants
        from error in Texts
        from completed in MaybeInstants
        from code in Gen.OneOf(Gen.Constant<int?>(null), Gen.Choose(100, 599).Select(c => (int?)c))
        from body in Texts
        from headerValue in Texts
        select new DeliveryResult
        {
            Destination = destination!,
            Status = status,
            Attempts = attempts,
            NextAttemptAt = next,
            LastError = error,
            CompletedAt = completed,
            Response = code is null && body is null ? null : new DeliveryResponse
            {
                StatusCode = code,
                Body = body,
                Headers = headerValue is null ? null : new Dictionary<string, string> { ["Content-Type"] = headerValue, ["ETag"] = "\"x\"" },
            },
        };

    private static readonly Arbitrary<SendResult> Results =
        (from id in Texts
         from status in Gen.Elements(Enum.GetValues<DeliveryStatus>())
         from accepted in Instants
         from deliveries in Deliveries.ListOf().Select(d => d.Take(4).ToList())
         from correlation in Texts
         from topic in Texts
         select new SendResult
         {
             Id = id!,
             Status = status,
             AcceptedAt = accepted,
             Deliveries = deliveries,
             CorrelationId = correlation,
             Topic = topic,
             Subscribers = topic is null ? null : deliveries.Select(d => d.Destination).ToList(),
         }).ToArbitrary();

    [Fact]
    public void The_answer_is_written_by_the_generated_code_not_by_the_metadata_resolver() =>
        Assert.NotNull(SendAnswerJson.Default.SendResult.SerializeHandler);

    [Property(MaxTest = 500)]
    public Property The_answer_has_the_bytes_of_the_silos_JSON_options() =>
        Prop.ForAll(Results, result =>
        {
            var expected = JsonSerializer.Serialize(result, silo.Options);
            var output = new ArrayBufferWriter<byte>();
            SendAnswer.Write(output, result);
            Assert.Equal(expected, System.Text.Encoding.UTF8.GetString(output.WrittenSpan));
        });

    [Fact]
    public void A_writer_that_failed_midway_writes_the_next_answer_whole()
    {
        var broken = new SendResult { Id = "a", Deliveries = [new DeliveryResult { Destination = "d" }] };
        Assert.ThrowsAny<Exception>(() => SendAnswer.Write(new FailingWriter(), broken));

        var output = new ArrayBufferWriter<byte>();
        SendAnswer.Write(output, broken);
        Assert.Equal(JsonSerializer.Serialize(broken, silo.Options), System.Text.Encoding.UTF8.GetString(output.WrittenSpan));
    }

    private sealed class FailingWriter : IBufferWriter<byte>
    {
        public void Advance(int count) => throw new IOException("the client went away");

        public Memory<byte> GetMemory(int sizeHint = 0) => new byte[Math.Max(sizeHint, 16)];

        public Span<byte> GetSpan(int sizeHint = 0) => new byte[Math.Max(sizeHint, 16)];
    }
}
