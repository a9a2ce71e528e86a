using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Relay.Core.Options;

namespace Relay.Adapters;

/// <summary>
/// A protocol as the configuration sees it: its name, the schemes its addresses may have, the class its destinations
/// bind to (a <see cref="DestinationOptions"/> with the protocol's own settings) and the rules of those settings.
/// Each adapter's <c>Add...Adapter</c> registers its own (<see cref="DestinationProtocols.AddDestinationProtocol"/>),
/// so that the host binds and checks a destination of that protocol before anything starts.
/// </summary>
public abstract class DestinationProtocol : IDestinationProtocol
{
    private protected DestinationProtocol(string name, IReadOnlyCollection<string> schemes)
    {
        Name = name;
        Schemes = schemes;
    }

    public string Name { get; }

    public IReadOnlyCollection<string> Schemes { get; }

    /// <summary>The class a destination of this protocol binds to.</summary>
    public abstract Type OptionsType { get; }

    /// <summary>A destination of this protocol bound from its section: the shared settings and the protocol's own.</summary>
    /// <exception cref="InvalidOperationException">A value does not convert; the message names its key and value.</exception>
    public abstract DestinationOptions? Bind(IConfigurationSection destination);

    public abstract void Validate(string key, DestinationOptions destination, ICollection<string> errors);
}

/// <summary>A protocol whose destinations bind to <typeparamref name="TDestination"/>, checked by <c>validate</c>.</summary>
public sealed class DestinationProtocol<TDestination> : DestinationProtocol
    where TDestination : DestinationOptions, new()
{
    private readonly Action<string, TDestination, ICollection<string>> _validate;

    public DestinationProtocol(string name, IReadOnlyCollection<string> schemes, Action<string, TDestination, ICollection<string>> validate)
        : base(name, schemes)
    {
        _validate = validate;
    }

    public override Type OptionsType => typeof(TDestination);

    public override DestinationOptions? Bind(IConfigurationSection destination) => destination.Get<TDestination>();

    public override void Validate(string key, DestinationOptions destination, ICollection<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (destination is TDestination typed)
        {
            _validate(key, typed, errors);
        }
        else
        {
            // Only code that builds the options itself, instead of binding them (DestinationProtocols.Bind), gets here.
            errors.Add($"{key} is not bound as a {Name} destination, so its {Name} settings cannot be checked.");
        }
    }
}

/// <summary>Registering the protocols, and binding each destination of the configuration to its protocol's class.</summary>
public static class DestinationProtocols
{
    /// <summary>Registers <paramref name="protocol"/> once (a second registration of its name is ignored).</summary>
    public static IServiceCollection AddDestinationProtocol(this IServiceCollection services, DestinationProtocol protocol)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        if (!services.RegisteredProtocols().Any(p => string.Equals(p.Name, protocol.Name, StringComparison.OrdinalIgnoreCase)))
        {
            services.AddSingleton(protocol);
        }

        return services;
    }

    /// <summary>
    /// The protocols registered so far, read from the registrations themselves: the host needs them to bind and check
    /// the configuration before it builds the service provider (and refuses to start on a problem).
    /// </summary>
    public static IReadOnlyList<DestinationProtocol> RegisteredProtocols(this IServiceCollection services) =>
        services.Where(d => d.ServiceType == typeof(DestinationProtocol) && d.ImplementationInstance is DestinationProtocol)
            .Select(d => (DestinationProtocol)d.ImplementationInstance!).ToList();

    /// <summary>
    /// Binds each destination of <paramref name="destinations"/> (<c>Relay:Destinations</c>) to the class of its
    /// protocol into <paramref name="into"/>, one entry at a time: inside a dictionary the binder drops an entry it
    /// cannot convert without a word, so each failure is returned instead (one line naming the key). A destination of
    /// an unknown protocol binds to <see cref="DestinationOptions"/>, for the validator to name its protocol.
    /// </summary>
    public static IReadOnlyList<string> Bind(IConfigurationSection destinations, IEnumerable<DestinationProtocol> protocols, IDictionary<string, DestinationOptions> into)
    {
        ArgumentNullException.ThrowIfNull(destinations);
        ArgumentNullException.ThrowIfNull(into);
        var known = protocols.ToList();
        var problems = new List<string>();
        foreach (var child in destinations.GetChildren())
        {
            var name = child[nameof(DestinationOptions.Protocol)] ?? new DestinationOptions().Protocol;
            var protocol = known.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));
            try
            {
                if ((protocol is null ? child.Get<DestinationOptions>() : protocol.Bind(child)) is { } destination)
                {
                    into[child.Key] = destination;
                }
            }
            catch (InvalidOperationException ex)
            {
                problems.Add(ex.Message);
            }
        }

        return problems;
    }
}
