namespace Relay.Adapters.Http;

/// <summary>Settings of the HTTP adapter itself, the same for every HTTP destination (those are in <c>Relay:Destinations</c>).</summary>
public sealed class HttpAdapterOptions : HttpTransportOptions;
