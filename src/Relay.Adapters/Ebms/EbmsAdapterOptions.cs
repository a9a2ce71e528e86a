using Relay.Adapters.Http;

namespace Relay.Adapters.Ebms;

/// <summary>Settings of the ebXML adapter itself, the same for every ebXML destination (those are in <c>Relay:Destinations</c>).</summary>
/// <remarks>
/// <see cref="HttpTransportOptions.MaxResponseBodyBytes"/> also bounds what is parsed of a synchronous reply: an
/// acknowledgment or error list beyond it is not seen (the attempt then counts as unacknowledged: retryable).
/// </remarks>
public sealed class EbmsAdapterOptions : HttpTransportOptions;
