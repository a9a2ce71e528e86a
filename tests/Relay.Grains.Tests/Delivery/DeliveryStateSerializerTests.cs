using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;
using Relay.Contracts;
using Relay.Grains.Delivery;

namespace Relay.Grains.Tests.Delivery;

/// <summary>
/// How a delivery's state is stored on both backends: its content (payload, content type, headers) apart from the
/// rest and written only when it changed, in Orleans's binary form (SQLite) or as JSON (PostgreSQL), and states stored
/// whole before contents were kept apart still read back.
/// </summary>
public sealed class DeliveryStateSerializerTests : IDisposable
{
    private static readonly DateTimeOffset AcceptedAt = new(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);

    private readonly ServiceProvider _services;
    private readonly OrleansGrainStorageSerializer _binary;

    public DeliveryStateSerializerTests()
    {
        _services = new ServiceCollection()
            .AddSerializer(serializer => serializer.AddAssembly(typeof(DeliveryState).Assembly))
            .AddSingleton<OrleansGrainStorageSerializer>()
            .BuildServiceProvider();
        _binary = _services.GetRequiredService<OrleansGrainStorageSerializer>();
    }

    public void Dispose() => _services.Dispose();

    /// <summary>The two forms a backend stores a delivery in: SQLite's (binary) and PostgreSQL's (JSON).</summary>
    public static TheoryData<string> Forms() => new() { "binary", "json" };

    private DeliveryStateSerializer Serializer(string form) =>
        new(form == "json" ? new DeliveryStateJsonSerializer(_binary) : new OrleansBinaryStateSerializer(_services.GetRequiredService<Serializer>()));

    private static DeliveryState NewState() => new()
    {
        MessageId = "order-17",
        Destination = "billing",
        Payload = Encoding.UTF8.GetBytes("{\"amount\":200,\"marker\":\"PAYLOAD-MARKER\"}"),
        ContentType = "application/json",
        Headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["X-Tenant"] = "acme" },
        ContentHash = "hash-1",
        AcceptedAt = AcceptedAt,
        Status = DeliveryStatus.InRetry,
        Attempts = 2,
        NextAttemptAt = AcceptedAt.AddSeconds(30),
        LastError = "503 Service Unavailable",
    };

    [Theory]
    [MemberData(nameof(Forms))]
    public void A_new_state_is_written_in_two_parts_and_reads_back_whole(string form)
    {
        var serializer = Serializer(form);

        var parts = serializer.SerializeParts(NewState());
        var read = serializer.Deserialize<DeliveryState>(parts.Data, parts.Content)!;

        Assert.NotNull(parts.Content);
        Assert.DoesNotContain("PAYLOAD-MARKER", Encoding.UTF8.GetString(parts.Data), StringComparison.Ordinal);
        Assert.Equal("order-17", read.MessageId);
        Assert.Equal(DeliveryStatus.InRetry, read.Status);
        Assert.Equal(2, read.Attempts);
        Assert.Equal(AcceptedAt.AddSeconds(30), read.NextAttemptAt);
        Assert.Equal(NewState().Payload, read.Payload);
        Assert.Equal("application/json", read.ContentType);
        Assert.Equal("acme", read.Headers["x-tenant"]);
        Assert.False(read.ContentUnsaved);
    }

    [Theory]
    [MemberData(nameof(Forms))]
    public void A_state_read_back_and_changed_writes_no_content_until_the_content_changes(string form)
    {
        var serializer = Serializer(form);
        var first = serializer.SerializeParts(NewState());
        var read = serializer.Deserialize<DeliveryState>(first.Data, first.Content)!;

        read.Attempts = 3;
        var attempt = serializer.SerializeParts(read);
        read.Payload = Encoding.UTF8.GetBytes("{\"amount\":250}");
        var edit = serializer.SerializeParts(read);

        Assert.Null(attempt.Content);
        Assert.Equal(3, serializer.Deserialize<DeliveryState>(attempt.Data, first.Content)!.Attempts);
        Assert.NotNull(edit.Content);
        Assert.Equal("{\"amount\":250}", Encoding.UTF8.GetString(serializer.Deserialize<DeliveryState>(edit.Data, edit.Content)!.Payload));
    }

    [Theory]
    [MemberData(nameof(Forms))]
    public void A_state_stored_whole_reads_back_with_its_content_and_stores_it_apart_at_the_next_write(string form)
    {
        var serializer = Serializer(form);
        var whole = serializer.Serialize(NewState()).ToArray();

        var read = serializer.Deserialize<DeliveryState>(whole, content: null)!;

        Assert.Equal(NewState().Payload, read.Payload);
        Assert.Equal("acme", read.Headers["X-Tenant"]);
        Assert.True(read.ContentUnsaved);
        Assert.NotNull(serializer.SerializeParts(read).Content);
    }

    [Theory]
    [MemberData(nameof(Forms))]
    public void Serializing_a_state_leaves_its_content_in_place(string form)
    {
        var serializer = Serializer(form);
        var state = NewState();
        var headers = state.Headers;

        var first = serializer.SerializeParts(state);
        state.ContentUnsaved = true;
        var again = serializer.SerializeParts(state);

        Assert.Equal(NewState().Payload, state.Payload);
        Assert.Equal("application/json", state.ContentType);
        Assert.Same(headers, state.Headers);
        Assert.Equal(first.Data, again.Data);
        Assert.Equal(first.Content, again.Content);
    }

    [Fact]
    public void SQLite_stores_a_state_in_the_bytes_Orleans_s_own_storage_serializer_writes()
    {
        // States stored by OrleansGrainStorageSerializer before must read back, and the two must keep agreeing.
        var exact = new OrleansBinaryStateSerializer(_services.GetRequiredService<Serializer>());
        var state = NewState();
        var content = new DeliveryStateContent { Payload = [1, 2, 3], ContentType = "text/plain" };

        Assert.Equal(_binary.Serialize(state).ToArray(), exact.Serialize(state).ToArray());
        Assert.Equal(_binary.Serialize(content).ToArray(), exact.Serialize(content).ToArray());
        Assert.Equal("order-17", exact.Deserialize<DeliveryState>(_binary.Serialize(state))!.MessageId);
    }

    [Fact]
    public void PostgreSQL_stores_a_delivery_as_camel_case_JSON_with_enums_by_name()
    {
        var json = JsonNode.Parse(new DeliveryStateJsonSerializer(_binary).Serialize(NewState()).ToString())!;

        Assert.Equal("order-17", (string?)json["messageId"]);
        Assert.Equal("InRetry", (string?)json["status"]);
        Assert.Equal(Convert.ToBase64String(NewState().Payload), (string?)json["payload"]);
        Assert.Null(json["contentUnsaved"]);
        Assert.Null(json["pendingAudit"]);
    }

    [Theory]
    [MemberData(nameof(Forms))]
    public void Any_other_state_is_stored_whole_by_the_inner_serializer(string form)
    {
        var serializer = Serializer(form);
        var other = new DeliveryStateContent { Payload = [1, 2, 3], ContentType = "application/octet-stream" };

        var parts = serializer.SerializeParts(other);

        Assert.Null(parts.Content);
        Assert.Equal(other.Payload, serializer.Deserialize<DeliveryStateContent>(parts.Data, null)!.Payload);
    }
}
