using Microsoft.Extensions.DependencyInjection;
using Relay.Adapters.Http;

namespace Relay.Adapters;

public static class HttpAdapterExtensions
{
    /// <summary>Registers the HTTP/REST adapter (<c>Protocol: Http</c>).</summary>
    public static IServiceCollection AddRelayHttpAdapter(this IServiceCollection services, Action<HttpAdapterOptions>? configure = null) =>
        services.AddProtocolAdapter<HttpAdapter, HttpAdapterOptions>(HttpDestinationValidator.Protocol, configure);
}
