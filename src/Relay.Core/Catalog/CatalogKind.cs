namespace Relay.Core.Catalog;

/// <summary>What the catalog holds: the three kinds of entry that configuration lists under <c>Relay</c>.</summary>
public enum CatalogKind
{
    /// <summary><c>Relay:Destinations:{name}</c>, <c>/destinations/{name}</c>.</summary>
    Destination,
    /// <summary><c>Relay:Contracts:{name}</c>, <c>/contracts/{name}</c>.</summary>
    Contract,
    /// <summary><c>Relay:Topics:{name}</c>, <c>/topics/{name}</c>.</summary>
    Topic,
}

public static class CatalogKinds
{
    /// <summary>The section of <c>Relay</c> that lists entries of this kind: <c>Destinations</c>, <c>Contracts</c>, <c>Topics</c>.</summary>
    public static string Section(this CatalogKind kind) => kind switch
    {
        CatalogKind.Destination => "Destinations",
        CatalogKind.Contract => "Contracts",
        CatalogKind.Topic => "Topics",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>The word for one entry, in messages: <c>destination</c>, <c>contract</c>, <c>topic</c>.</summary>
    public static string Word(this CatalogKind kind) => kind switch
    {
        CatalogKind.Destination => "destination",
        CatalogKind.Contract => "contract",
        CatalogKind.Topic => "topic",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>How a kind is stored: its name, as the enum spells it (a stored name survives a reordered enum).</summary>
    public static string Stored(this CatalogKind kind) => kind.ToString();

    public static CatalogKind FromStored(string stored) => Enum.Parse<CatalogKind>(stored, ignoreCase: false);
}
