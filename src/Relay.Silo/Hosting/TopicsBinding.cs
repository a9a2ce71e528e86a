using Relay.Core.Topics;

namespace Relay.Silo.Hosting;

/// <summary>
/// Reads <c>Relay:Topics</c> in both of its shapes, which the configuration binder cannot tell apart: a plain list of
/// destination names (<c>"orders": ["billing", "shipping"]</c>, keys <c>Relay:Topics:orders:0</c>...), as before
/// filters, and <c>"orders": {"Subscriptions": [{"Destination": "billing", "Filter": "amount > 100"}]}</c>.
/// </summary>
internal static class TopicsBinding
{
    public const string SubscriptionsKey = nameof(TopicOptions.Subscriptions);

    /// <summary>Replaces what the binder made of <paramref name="section"/> (<c>Relay:Topics</c>) in <paramref name="topics"/>.</summary>
    public static void Bind(IConfigurationSection section, Dictionary<string, TopicOptions> topics)
    {
        topics.Clear();
        foreach (var topic in section.GetChildren())
        {
            topics[topic.Key] = Read(topic);
        }
    }

    /// <summary>Whether a topic's section has the object shape (<c>Subscriptions</c>) rather than a plain list of names.</summary>
    public static bool HasSubscriptions(IConfigurationSection topic) =>
        topic.GetChildren().Any(c => !int.TryParse(c.Key, out _));

    private static TopicOptions Read(IConfigurationSection topic)
    {
        if (!HasSubscriptions(topic))
        {
            // The children come in index order (the configuration sorts numeric keys as numbers).
            return TopicOptions.Of(topic.GetChildren().Select(c => c.Value ?? ""));
        }

        return new TopicOptions
        {
            Subscriptions = topic.GetSection(SubscriptionsKey).GetChildren()
                .Select(s => new SubscriptionOptions { Destination = s[nameof(SubscriptionOptions.Destination)] ?? "", Filter = s[nameof(SubscriptionOptions.Filter)] })
                .ToList(),
        };
    }
}
