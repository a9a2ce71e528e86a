using Relay.Contracts;
using Relay.Core.Delivery;
using Relay.Core.Messages;
using Relay.Core.Options;

namespace Relay.Adapters;

/// <summary>
/// One protocol's way of making one attempt of one delivery. An adapter never throws for a failure of
/// the destination: it classifies it (retryable or final) into the <see cref="AttemptResult"/>.
/// </summary>
public interface IProtocolAdapter
{
    /// <summary>The value of a destination's <c>Protocol</c> this adapter serves, e.g. <c>Http</c>.</summary>
    string Protocol { get; }

    /// <param name="message">What to send.</param>
    /// <param name="destination">The destination's configuration.</param>
    /// <param name="timeout">Bound of this attempt; running out of it is a retryable failure.</param>
    /// <param name="cancellationToken">Cancelled when the silo stops.</param>
    Task<AttemptResult> SendAsync(OutboundMessage message, DestinationOptions destination, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>
    /// Why this protocol does not take a message's header <paramref name="name"/> for <paramref name="destination"/>
    /// (the end of a sentence), or null when it does. Asked at acceptance besides the rules of every destination
    /// (<see cref="DestinationHeaders"/>), so that such a message is refused whole instead of losing the header at its
    /// attempt; an adapter leaves out what it refuses here all the same.
    /// </summary>
    string? RefusesHeader(DestinationOptions destination, string name) => null;

    /// <summary>
    /// Checks the send request's fields of this protocol (<see cref="SendRequest.Ebms"/> for <c>Ebms2</c>) against the
    /// message's destinations, at acceptance: an error refuses the message whole; otherwise what to keep with its content
    /// goes into <paramref name="stored"/> (<see cref="ProtocolFields"/>), and reaches the adapter in
    /// <see cref="OutboundMessage.Headers"/> at every attempt. Asked of every adapter, whatever the destinations' protocols.
    /// </summary>
    RelayError? TakeFields(SendRequest request, IReadOnlyList<KeyValuePair<string, DestinationOptions>> destinations, IDictionary<string, string> stored) => null;
}

/// <summary>
/// An adapter whose destinations bind to <typeparamref name="TDestination"/>, its protocol's options
/// (<see cref="DestinationProtocol{TDestination}"/>): it is called with them, typed.
/// </summary>
public interface IProtocolAdapter<in TDestination> : IProtocolAdapter
    where TDestination : DestinationOptions
{
    /// <inheritdoc cref="IProtocolAdapter.SendAsync"/>
    Task<AttemptResult> SendAsync(OutboundMessage message, TDestination destination, TimeSpan timeout, CancellationToken cancellationToken);

    /// <inheritdoc cref="IProtocolAdapter.RefusesHeader"/>
    string? RefusesHeader(TDestination destination, string name) => null;

    Task<AttemptResult> IProtocolAdapter.SendAsync(OutboundMessage message, DestinationOptions destination, TimeSpan timeout, CancellationToken cancellationToken) =>
        destination is TDestination typed
            ? SendAsync(message, typed, timeout, cancellationToken)
            // The host binds each destination to its protocol's class; only options built by hand can miss it.
            : Task.FromResult(AttemptResult.Final($"The destination '{message.DestinationName}' has no {Protocol} settings (it is not bound as a {Protocol} destination)"));

    string? IProtocolAdapter.RefusesHeader(DestinationOptions destination, string name) =>
        destination is TDestination typed ? RefusesHeader(typed, name) : null;
}

/// <summary>One attempt's input: the message as the destination should see it.</summary>
public sealed record OutboundMessage
{
    public required string MessageId { get; init; }
    public required string DestinationName { get; init; }
    /// <summary>The attempt number, 1 for the first.</summary>
    public required int Attempt { get; init; }
    public required ReadOnlyMemory<byte> Payload { get; init; }
    public required string ContentType { get; init; }
    public required IReadOnlyDictionary<string, string> Headers { get; init; }
    public string? CorrelationId { get; init; }
}

/// <summary>Finds the adapter of a destination's protocol.</summary>
public sealed class ProtocolAdapters
{
    private readonly Dictionary<string, IProtocolAdapter> _byProtocol;

    public ProtocolAdapters(IEnumerable<IProtocolAdapter> adapters)
    {
        _byProtocol = adapters.ToDictionary(a => a.Protocol, StringComparer.OrdinalIgnoreCase);
    }

    public IReadOnlyCollection<string> Protocols => _byProtocol.Keys;

    /// <summary>What the destination's protocol refuses of a message's headers (<see cref="IProtocolAdapter.RefusesHeader"/>).</summary>
    public string? RefusesHeader(DestinationOptions destination, string name)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return _byProtocol.TryGetValue(destination.Protocol, out var adapter) ? adapter.RefusesHeader(destination, name) : null;
    }

    /// <summary>The protocols' rules for a send request's protocol fields (<see cref="IProtocolAdapter.TakeFields"/>), in one.</summary>
    public RelayError? TakeFields(SendRequest request, IReadOnlyList<KeyValuePair<string, DestinationOptions>> destinations, IDictionary<string, string> stored)
    {
        foreach (var adapter in _byProtocol.Values)
        {
            if (adapter.TakeFields(request, destinations, stored) is { } error)
            {
                return error;
            }
        }

        return null;
    }

    public IProtocolAdapter Get(string protocol) =>
        _byProtocol.TryGetValue(protocol, out var adapter)
            ? adapter
            : throw new InvalidOperationException($"No adapter for protocol '{protocol}'.");
}
