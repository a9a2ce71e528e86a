using Relay.Core.Messages;

namespace Relay.Core.Tests.Messages;

public sealed class OrderingQueueKeyTests
{
    [Theory]
    [InlineData("billing", "shop", "customer-42", "billing/shop/customer-42")]
    [InlineData("billing", null, "customer-42", "billing/*/customer-42")]
    [InlineData("billing", "*", "k", "billing/%2A/k")]
    [InlineData("billing", "a/b", "c/d", "billing/a%2Fb/c/d")]
    [InlineData("billing", "sender#0", "k", "billing/sender%230/k")]
    public void A_key_names_destination_sender_and_ordering_key_and_reads_back(string destination, string? sender, string orderingKey, string expected)
    {
        var key = new OrderingQueueKey(destination, sender, orderingKey);

        Assert.Equal(expected, key.ToString());
        Assert.Equal(key, OrderingQueueKey.Parse(expected));
        Assert.Equal($"{destination}/{orderingKey}", key.LegacyKey);
    }

    [Fact]
    public void The_anonymous_sender_and_a_key_named_star_are_different_queues()
    {
        Assert.NotEqual(new OrderingQueueKey("d", null, "k").ToString(), new OrderingQueueKey("d", "*", "k").ToString());
    }

    [Fact]
    public void Senders_whose_names_differ_only_by_escaping_are_different_queues()
    {
        var keys = new[] { "a/b", "a%2Fb", "a%252Fb", "a", "a/", "/a" }
            .Select(sender => new OrderingQueueKey("d", sender, "k").ToString())
            .ToArray();

        Assert.Equal(keys.Length, keys.Distinct(StringComparer.Ordinal).Count());
    }

    [Theory]
    [InlineData("billing")]
    [InlineData("billing/shop")]
    [InlineData("/shop/k")]
    [InlineData("billing//k")]
    [InlineData("billing/shop/")]
    public void Parse_refuses_what_is_not_a_key(string text)
    {
        Assert.Throws<FormatException>(() => OrderingQueueKey.Parse(text));
    }
}
