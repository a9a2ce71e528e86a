namespace Relay.Core.Tests.Messages;

public class DeliveryKeyTests
{
    private static readonly Gen<string> DestinationNames =
        Gen.Elements("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-".ToCharArray())
            .NonEmptyListOf().Select(chars => new string(chars.Take(100).ToArray()));

    private static readonly Gen<string> MessageIds =
        ArbMap.Default.GeneratorFor<string>()
            .Where(s => !string.IsNullOrEmpty(s))
            .Or(Gen.Elements("a/b", "/", "//", "/leading", "trailing/", "ünï/cødé-🚀"));

    [Theory]
    [InlineData("billing", "order-123")]
    [InlineData("billing", "a/b/c")]
    [InlineData("billing", "/")]
    [InlineData("billing", "/leading")]
    [InlineData("billing", "trailing/")]
    [InlineData("order.created_v2-x", "ünïcødé 🚀")]
    public void ToString_and_Parse_round_trip_even_with_slashes_in_the_id(string destination, string messageId)
    {
        var key = new DeliveryKey(destination, messageId);

        var parsed = DeliveryKey.Parse(key.ToString());

        Assert.Equal(key, parsed);
        Assert.Equal(destination, parsed.Destination);
        Assert.Equal(messageId, parsed.MessageId);
    }

    [Fact]
    public void The_string_form_is_destination_slash_id()
    {
        Assert.Equal("billing/a/b", new DeliveryKey("billing", "a/b").ToString());
    }

    [Property(MaxTest = 1000)]
    public Property Any_valid_destination_and_id_round_trip() =>
        Prop.ForAll(DestinationNames.ToArbitrary(), MessageIds.ToArbitrary(), (destination, id) =>
            DeliveryKey.Parse(new DeliveryKey(destination, id).ToString()) == new DeliveryKey(destination, id));

    [Property(MaxTest = 1000)]
    public Property Shard_is_within_the_shard_space() =>
        Prop.ForAll(DestinationNames.ToArbitrary(), MessageIds.ToArbitrary(), (destination, id) =>
            new DeliveryKey(destination, id).Shard is >= 0 and < DeliveryKey.ShardSpace);

    [Theory]
    // Computed once with FNV-1a 32 over the UTF-8 of "destination/id", mod 1024. Every silo and every
    // stored row depends on these: a change of the hash moves deliveries to other schedulers.
    [InlineData("billing", "order-123", 502)]
    [InlineData("app-callbacks", "req-9", 624)]
    [InlineData("shipping", "a/b/c", 584)]
    [InlineData("billing", "ünïcødé-🚀", 248)]
    public void Shard_is_pinned_for_known_keys(string destination, string messageId, int shard)
    {
        Assert.Equal(shard, new DeliveryKey(destination, messageId).Shard);
    }

    [Fact]
    public void Shard_is_the_same_for_equal_keys()
    {
        var first = new DeliveryKey("billing", "order-123");
        var second = DeliveryKey.Parse("billing/order-123");

        Assert.Equal(first.Shard, second.Shard);
    }

    [Fact]
    public void Shards_spread_over_the_space()
    {
        var shards = Enumerable.Range(0, 10_000).Select(i => new DeliveryKey("billing", $"order-{i}").Shard).ToHashSet();

        // 10 000 keys into 1024 shards leave, with a fair hash, almost none empty.
        Assert.True(shards.Count > 1000, $"only {shards.Count} shards used");
    }

    [Theory]
    [InlineData("")]
    [InlineData("billing")]
    [InlineData("/order-123")]
    [InlineData("billing/")]
    public void Parse_refuses_a_string_that_is_not_a_delivery_key(string key)
    {
        Assert.Throws<FormatException>(() => DeliveryKey.Parse(key));
    }
}
