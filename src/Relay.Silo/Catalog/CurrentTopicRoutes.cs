using Microsoft.Extensions.Options;
using Relay.Core.Options;
using Relay.Core.Topics;

namespace Relay.Silo.Catalog;

/// <summary>
/// The topics' routes (their filters compiled), compiled once per catalog version: the catalog hands out one topics
/// dictionary per version, so a new one means a change, and the same one means the routes compiled from it still hold.
/// </summary>
public sealed class CurrentTopicRoutes(IOptions<RelayOptions> options)
{
    private Compiled? _compiled;

    public TopicRoutes Value
    {
        get
        {
            var topics = options.Value.Topics;
            var compiled = Volatile.Read(ref _compiled);
            if (compiled is null || !ReferenceEquals(compiled.Topics, topics))
            {
                compiled = new Compiled(topics, TopicRoutes.Compile(topics));
                Volatile.Write(ref _compiled, compiled);
            }

            return compiled.Routes;
        }
    }

    private sealed record Compiled(object Topics, TopicRoutes Routes);
}
