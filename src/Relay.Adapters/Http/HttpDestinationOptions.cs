namespace Relay.Adapters.Http;

/// <summary>An HTTP/REST destination (<c>Protocol: Http</c>): the shared settings and the request's method.</summary>
public sealed class HttpDestinationOptions : HttpTransportDestinationOptions
{
    /// <summary>The HTTP method of each request.</summary>
    public string Method { get; set; } = "POST";
}
