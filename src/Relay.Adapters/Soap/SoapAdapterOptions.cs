using Relay.Adapters.Http;

namespace Relay.Adapters.Soap;

/// <summary>Settings of the SOAP adapter itself, the same for every SOAP destination (those are in <c>Relay:Destinations</c>).</summary>
public sealed class SoapAdapterOptions : HttpTransportOptions;
