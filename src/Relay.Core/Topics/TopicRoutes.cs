namespace Relay.Core.Topics;

/// <summary>
/// The topics with their filters compiled: built once from the configuration (or per catalog version), then asked,
/// for each message sent to a topic, which subscribers take it. Immutable and safe to share.
/// </summary>
public sealed class TopicRoutes
{
    private readonly Dictionary<string, CompiledTopic> _topics;

    private TopicRoutes(Dictionary<string, CompiledTopic> topics) => _topics = topics;

    public static readonly TopicRoutes Empty = new(new Dictionary<string, CompiledTopic>(StringComparer.Ordinal));

    /// <summary>Compiles every topic's filters.</summary>
    /// <exception cref="FormatException">A filter is not valid (the configuration's validation refuses it before).</exception>
    public static TopicRoutes Compile(IReadOnlyDictionary<string, TopicOptions> topics)
    {
        ArgumentNullException.ThrowIfNull(topics);
        var compiled = new Dictionary<string, CompiledTopic>(StringComparer.Ordinal);
        foreach (var (name, topic) in topics)
        {
            compiled[name] = CompiledTopic.Compile(name, topic);
        }

        return new TopicRoutes(compiled);
    }

    public bool TryGetTopic(string name, out CompiledTopic topic) => _topics.TryGetValue(name, out topic!);

    public IEnumerable<string> Names => _topics.Keys;
}

/// <summary>One topic, its filters compiled.</summary>
public sealed class CompiledTopic
{
    private readonly (string Destination, SubscriptionFilter? Filter)[] _subscriptions;
    private readonly bool _repeats;

    private CompiledTopic(string name, (string, SubscriptionFilter?)[] subscriptions)
    {
        Name = name;
        _subscriptions = subscriptions;
        HasFilters = subscriptions.Any(s => s.Item2 is not null);
        Subscribers = subscriptions.Select(s => s.Item1).Distinct(StringComparer.Ordinal).ToArray();
        _repeats = Subscribers.Count != subscriptions.Length;
    }

    public string Name { get; }

    /// <summary>Whether any subscription has a filter; when none has, every subscriber takes every message.</summary>
    public bool HasFilters { get; }

    /// <summary>Every destination subscribed, each once, in the order configured.</summary>
    public IReadOnlyList<string> Subscribers { get; }

    public static CompiledTopic Compile(string name, TopicOptions topic)
    {
        ArgumentNullException.ThrowIfNull(topic);
        var subscriptions = topic.Subscriptions
            .Select(s => (s.Destination, string.IsNullOrWhiteSpace(s.Filter) ? null : SubscriptionFilter.Compile(s.Filter)))
            .ToArray();
        return new CompiledTopic(name, subscriptions);
    }

    /// <summary>
    /// The subscribers that take <paramref name="message"/>, each once, in the order configured: those whose
    /// subscription has no filter, and those whose filter matches. A destination subscribed more than once takes the
    /// message when any of its subscriptions does (one delivery), at the place of the first that does.
    /// </summary>
    public IReadOnlyList<string> Route(MessageProperties message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var taken = new List<string>(_subscriptions.Length);
        foreach (var (destination, filter) in _subscriptions)
        {
            if ((!_repeats || !taken.Contains(destination, StringComparer.Ordinal)) && (filter is null || filter.Matches(message)))
            {
                taken.Add(destination);
            }
        }

        return taken;
    }
}
