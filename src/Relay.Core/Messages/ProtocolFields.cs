using Relay.Contracts;
using Relay.Core.Options;

namespace Relay.Core.Messages;

/// <summary>
/// Checks a send request's protocol fields (<see cref="SendRequest.Ebms"/>) against the message's destinations
/// (name and options each): answers why the message is refused, or null and puts into <paramref name="stored"/> what to
/// keep with the message's content, each under a name of <see cref="ProtocolFields.Prefix"/>.
/// </summary>
public delegate RelayError? ProtocolFieldRule(SendRequest request, IReadOnlyList<KeyValuePair<string, DestinationOptions>> destinations,
    IDictionary<string, string> stored);

/// <summary>
/// The fields of a send request that belong to one protocol (<c>ebms</c>: Service, Action) are kept with the message's
/// content, beside its headers, under names a sender can never give (<c>X-Relay-</c>: refused at acceptance): so they are
/// stored, hashed for idempotency and kept across resubmits as the headers are, and reach the adapter at every attempt.
/// No adapter forwards such a name as a header (<see cref="DestinationHeaders.Refusal"/>).
/// </summary>
public static class ProtocolFields
{
    /// <summary>The prefix of every stored protocol field.</summary>
    public const string Prefix = "X-Relay-Field-";

    /// <summary>Whether <paramref name="name"/> is Relay's own (a protocol field, or a header Relay sets), never a sender's header.</summary>
    public static bool IsReserved(string name) => name.StartsWith("X-Relay-", StringComparison.OrdinalIgnoreCase);
}
