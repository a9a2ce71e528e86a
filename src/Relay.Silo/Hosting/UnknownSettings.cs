using System.Collections;
using System.ComponentModel;
using System.Reflection;
using Orleans.Configuration;
using Relay.Core.Options;
using Relay.Core.Topics;

namespace Relay.Silo.Hosting;

/// <summary>
/// Finds the keys under <c>Relay:</c> that no option binds, so that a misspelled or invented setting
/// (<c>MaxAtempts</c>, a destination's <c>Auth</c>) stops the silo instead of being dropped without a word.
/// <para>
/// The known names are the public properties of the option classes, found by reflection, as the configuration
/// binder finds them (case-insensitively). Only property names are checked: a dictionary's keys (destinations,
/// contracts, topics, headers, API keys) are names the operator chooses, and a list's keys are its indexes.
/// </para>
/// <para>
/// The sections: <see cref="RelayOptions"/> at <c>Relay</c>, every Relay options class that declares a
/// <c>public const string SectionName</c> under <c>Relay:</c> (so a new section is known as soon as it is declared
/// the way the others are), and the few bound to a type that is not Relay's (<see cref="ForeignSections"/>).
/// </para>
/// <para>
/// A destination's names are those of <see cref="DestinationOptions"/> and of every protocol's subclass of it (each
/// adapter's <c>...DestinationOptions</c>, found the same way), so a new protocol's settings are known as soon as its
/// class is declared.
/// </para>
/// </summary>
internal static class UnknownSettings
{
    /// <summary>Sections under <c>Relay:</c> bound to types that are not Relay's, or read without an options class.</summary>
    private static readonly (string Path, Type Type)[] ForeignSections =
    [
        // silo.Configure<ClusterMembershipOptions>(section.GetSection("Cluster:Membership")) in RelayHostExtensions.
        (RelayOptions.SectionName + ":Cluster:Membership", typeof(ClusterMembershipOptions)),
    ];

    private static readonly Lazy<IReadOnlyDictionary<string, Type>> KnownSections = new(FindSections);

    private static readonly Lazy<IReadOnlyList<Type>> ProtocolDestinations = new(FindProtocolDestinations);

    /// <summary>One line per unknown key in the section <c>Relay</c>, naming its full path and the nearest known name.</summary>
    public static IReadOnlyList<string> Find(IConfigurationSection relay)
    {
        ArgumentNullException.ThrowIfNull(relay);
        var problems = new List<string>();
        CheckObject(relay, typeof(RelayOptions), problems);
        return problems;
    }

    private static void Check(IConfigurationSection section, Type type, List<string> problems)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (IsValue(type))
        {
            // A value has no settings of its own: whatever is below it is unknown.
            foreach (var child in section.GetChildren())
            {
                problems.Add($"{child.Path} is not a known setting: {section.Path} takes a value, not settings below it.");
            }
        }
        else if (ElementOfDictionary(type) is { } valueType)
        {
            foreach (var child in section.GetChildren())
            {
                Check(child, valueType, problems);
            }
        }
        else if (ElementOfCollection(type) is { } elementType)
        {
            foreach (var child in section.GetChildren())
            {
                Check(child, elementType, problems);
            }
        }
        else
        {
            if (!string.IsNullOrEmpty(section.Value))
            {
                // A section given a value ("Auth": "basic"): the binder would drop it without a word.
                var names = Properties(type).Keys.Order(StringComparer.OrdinalIgnoreCase);
                problems.Add($"{section.Path} takes settings below it ({string.Join(", ", names)}), not a value.");
            }

            CheckObject(section, type, problems);
        }
    }

    private static void CheckObject(IConfigurationSection section, Type type, List<string> problems)
    {
        if (type == typeof(TopicOptions) && !TopicsBinding.HasSubscriptions(section))
        {
            // A topic given as a plain list of destination names: each entry is a name, nothing below it.
            foreach (var entry in section.GetChildren())
            {
                foreach (var child in entry.GetChildren())
                {
                    problems.Add($"{child.Path} is not a known setting: {entry.Path} is a destination name in a plain list; "
                                 + $"a subscription with a filter is written {section.Path}:{TopicsBinding.SubscriptionsKey}:0:Destination and :Filter.");
                }
            }

            return;
        }

        var known = Properties(type);
        if (type == typeof(DestinationOptions))
        {
            // A destination's settings are the shared ones and those of the protocols' classes (each adapter's
            // subclass of DestinationOptions), whichever the destination's protocol: the same keys as ever.
            foreach (var destinationType in ProtocolDestinations.Value)
            {
                foreach (var (name, propertyType) in Properties(destinationType))
                {
                    known.TryAdd(name, propertyType);
                }
            }
        }

        foreach (var (path, sectionType) in KnownSections.Value)
        {
            // A section declared on its own (Relay:Security) is a known name of its parent (Relay).
            var parent = path[..Math.Max(0, path.LastIndexOf(':'))];
            if (string.Equals(parent, section.Path, StringComparison.OrdinalIgnoreCase))
            {
                known.TryAdd(path[(parent.Length + 1)..], sectionType);
            }
        }

        foreach (var child in section.GetChildren())
        {
            if (known.TryGetValue(child.Key, out var childType))
            {
                Check(child, childType, problems);
            }
            else
            {
                problems.Add(Unknown(child, known.Keys));
            }
        }
    }

    private static string Unknown(IConfigurationSection child, IEnumerable<string> known)
    {
        // An unknown section names the keys given below it too (Relay:Limit, with Relay:Limit:MaxPayloadBytes), as given.
        var leaves = child.AsEnumerable().Where(pair => pair.Value is not null && pair.Key.Length > child.Path.Length)
            .Select(pair => pair.Key).Order(StringComparer.OrdinalIgnoreCase).ToList();
        var what = leaves.Count switch
        {
            0 => child.Path,
            <= 3 => $"{child.Path} ({string.Join(", ", leaves)})",
            _ => $"{child.Path} ({string.Join(", ", leaves.Take(3))} and {leaves.Count - 3} more)",
        };
        var names = known.Order(StringComparer.OrdinalIgnoreCase).ToList();
        var (nearest, distance) = Nearest(child.Key, names);
        if (nearest is null)
        {
            return $"{what} is not a known setting; {child.Path[..^(child.Key.Length + 1)]} has no settings of its own.";
        }

        // Close enough to be a slip of the keyboard: one edit in four characters (MaxAtempts, Provder, SyncTimout).
        return distance <= Math.Max(1, child.Key.Length / 4)
               || nearest.StartsWith(child.Key, StringComparison.OrdinalIgnoreCase)
               || child.Key.StartsWith(nearest, StringComparison.OrdinalIgnoreCase)
            ? $"{what} is not a known setting; did you mean '{nearest}'?"
            : $"{what} is not a known setting; the nearest known name is '{nearest}' (known here: {string.Join(", ", names)}).";
    }

    private static (string? Name, int Distance) Nearest(string key, IReadOnlyList<string> names)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var name in names)
        {
            var distance = EditDistance(key.ToUpperInvariant(), name.ToUpperInvariant());
            if (distance < bestDistance)
            {
                (best, bestDistance) = (name, distance);
            }
        }

        return (best, bestDistance);
    }

    /// <summary>Levenshtein distance: insertions, deletions and substitutions, each costing one.</summary>
    internal static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j] + 1, current[j - 1] + 1));
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    /// <summary>The names the binder binds on <paramref name="type"/>: public instance properties, or their <c>[ConfigurationKeyName]</c>.</summary>
    private static Dictionary<string, Type> Properties(Type type)
    {
        var result = new Dictionary<string, Type>(StringComparer.OrdinalIgnoreCase);
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length > 0 || property.GetMethod is null)
            {
                continue;
            }

            var name = property.GetCustomAttribute<ConfigurationKeyNameAttribute>()?.Name ?? property.Name;
            result.TryAdd(name, property.PropertyType);
        }

        return result;
    }

    /// <summary>Whether the binder reads <paramref name="type"/> from one string (a number, a TimeSpan, a Uri...).</summary>
    private static bool IsValue(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(object)
        || (ElementOfDictionary(type) is null && ElementOfCollection(type) is null
            && TypeDescriptor.GetConverter(type).CanConvertFrom(typeof(string)));

    private static Type? ElementOfDictionary(Type type) =>
        GenericArguments(type, typeof(IDictionary<,>)) is [_, var value] ? value
        : GenericArguments(type, typeof(IReadOnlyDictionary<,>)) is [_, var readOnlyValue] ? readOnlyValue
        : null;

    private static Type? ElementOfCollection(Type type) =>
        type.IsArray ? type.GetElementType()
        : GenericArguments(type, typeof(IEnumerable<>)) is [var element] ? element
        : typeof(IEnumerable).IsAssignableFrom(type) ? typeof(object)
        : null;

    private static Type[]? GenericArguments(Type type, Type generic)
    {
        if (type.IsGenericType && type.GetGenericTypeDefinition() == generic)
        {
            return type.GetGenericArguments();
        }

        return type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == generic)?.GetGenericArguments();
    }

    /// <summary>Every section under <c>Relay:</c> with its type: Relay's option classes that declare their <c>SectionName</c>, and <see cref="ForeignSections"/>.</summary>
    private static IReadOnlyDictionary<string, Type> FindSections()
    {
        var sections = new Dictionary<string, Type>(StringComparer.OrdinalIgnoreCase);
        foreach (var (path, type) in ForeignSections)
        {
            sections[path] = type;
        }

        foreach (var type in RelayAssemblies().SelectMany(LoadableTypes))
        {
            if (type.GetField("SectionName", BindingFlags.Public | BindingFlags.Static) is { IsLiteral: true } field
                && field.GetRawConstantValue() is string path
                && path.StartsWith(RelayOptions.SectionName + ":", StringComparison.OrdinalIgnoreCase))
            {
                sections[path] = type;
            }
        }

        return sections;
    }

    /// <summary>The classes of the protocols' destinations: Relay's subclasses of <see cref="DestinationOptions"/>.</summary>
    private static IReadOnlyList<Type> FindProtocolDestinations() =>
        RelayAssemblies().SelectMany(LoadableTypes)
            .Where(t => t is { IsClass: true, IsAbstract: false } && t.IsSubclassOf(typeof(DestinationOptions)))
            .OrderBy(t => t.FullName, StringComparer.Ordinal).ToList();

    /// <summary>This assembly and the Relay assemblies it references, directly or not.</summary>
    private static IEnumerable<Assembly> RelayAssemblies()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<Assembly>([typeof(UnknownSettings).Assembly]);
        while (pending.TryPop(out var assembly))
        {
            if (!seen.Add(assembly.GetName().Name!))
            {
                continue;
            }

            yield return assembly;
            foreach (var reference in assembly.GetReferencedAssemblies())
            {
                if (reference.Name is { } name && name.StartsWith("Relay.", StringComparison.Ordinal) && !seen.Contains(name))
                {
                    pending.Push(Assembly.Load(reference));
                }
            }
        }
    }

    private static IEnumerable<Type> LoadableTypes(Assembly assembly)
    {
        try
        {
            return assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException ex)
        {
            return ex.Types.OfType<Type>();
        }
    }
}
