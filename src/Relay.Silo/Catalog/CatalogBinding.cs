using Relay.Adapters;
using Relay.Core.Catalog;
using Relay.Core.Options;
using Relay.Silo.Hosting;

namespace Relay.Silo.Catalog;

/// <summary>The catalog's entries bound to Relay's options, as start-up binds configuration's: by the same code, with the same problems.</summary>
/// <param name="Entries">Options holding the catalog's destinations, contracts and topics (nothing else is set): the types are
/// <see cref="RelayOptions"/>'s own, so a change of an entry's shape there (a topic's subscriptions) needs nothing here.</param>
/// <param name="Problems">One line per problem of binding, naming its key, as at start-up.</param>
public sealed record CatalogBinding(RelayOptions Entries, IReadOnlyList<string> Problems)
{
    /// <summary>
    /// Binds <paramref name="entries"/> (live ones: with settings). Unknown keys, values that do not convert and empty
    /// entries are problems, one line each naming its key (<c>Relay:Destinations:billing:Adress</c>), as at start-up.
    /// </summary>
    public static CatalogBinding Bind(IEnumerable<(CatalogKind Kind, string Name, string Settings)> entries, IReadOnlyList<DestinationProtocol> protocols)
    {
        var list = entries.ToList();
        var problems = new List<string>();
        IConfigurationRoot configuration;
        try
        {
            configuration = CatalogJson.ToConfiguration(list);
        }
        catch (Exception ex) when (ex is FormatException or System.Text.Json.JsonException or InvalidDataException)
        {
            problems.Add($"The settings are not JSON that configuration can hold: {ex.Message}");
            return new CatalogBinding(new RelayOptions(), problems);
        }

        var relay = configuration.GetSection(RelayOptions.SectionName);
        problems.AddRange(UnknownSettings.Find(relay));
        var bound = new RelayOptions();
        try
        {
            relay.Bind(bound);
        }
        catch (InvalidOperationException ex)
        {
            problems.Add(ex.Message);
        }

        // Topics as at start-up: a plain list of names, or subscriptions with filters.
        Hosting.TopicsBinding.Bind(relay.GetSection(nameof(RelayOptions.Topics)), bound.Topics);

        // As at start-up: inside a dictionary the binder drops an entry it cannot convert, so each is bound on its own.
        foreach (var child in relay.GetSection(nameof(RelayOptions.Contracts)).GetChildren())
        {
            try
            {
                child.Get<RetryContractOptions>();
            }
            catch (InvalidOperationException ex)
            {
                problems.Add(ex.Message);
            }
        }

        var destinations = new Dictionary<string, DestinationOptions>(StringComparer.Ordinal);
        problems.AddRange(DestinationProtocols.Bind(relay.GetSection(nameof(RelayOptions.Destinations)), protocols, destinations));

        // An entry without a single setting ({} or []) leaves nothing in configuration: say so rather than lose it.
        foreach (var (kind, name, _) in list)
        {
            var present = kind switch
            {
                CatalogKind.Destination => destinations.ContainsKey(name),
                CatalogKind.Contract => bound.Contracts.ContainsKey(name),
                _ => bound.Topics.ContainsKey(name),
            };
            if (!present && relay.GetSection($"{kind.Section()}:{name}").GetChildren().Any() is false)
            {
                problems.Add(kind switch
                {
                    CatalogKind.Destination => $"{RelayOptions.SectionName}:Destinations:{name} is empty; give at least Protocol and Address.",
                    CatalogKind.Contract => $"{RelayOptions.SectionName}:Contracts:{name} is empty; give at least MaxAttempts and Delay.",
                    _ => $"{RelayOptions.SectionName}:Topics:{name} has no subscribers; list at least one destination.",
                });
            }
        }

        bound.Destinations = destinations;
        return new CatalogBinding(bound, problems);
    }

    /// <summary><paramref name="current"/> (every setting that is not the catalog's) with this catalog's entries in place of its own.</summary>
    public RelayOptions Over(RelayOptions current)
    {
        ArgumentNullException.ThrowIfNull(current);
        // Every section copied as it is (one added later included), then the catalog's three.
        var result = new RelayOptions();
        foreach (var property in typeof(RelayOptions).GetProperties(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance))
        {
            if (property.CanWrite && property.GetIndexParameters().Length == 0)
            {
                property.SetValue(result, property.GetValue(current));
            }
        }

        result.Destinations = Entries.Destinations;
        result.Contracts = Entries.Contracts;
        result.Topics = Entries.Topics;
        return result;
    }
}
