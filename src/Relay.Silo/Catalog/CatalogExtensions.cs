using Microsoft.Extensions.Options;
using Relay.Core.Options;

namespace Relay.Silo.Catalog;

public static class CatalogExtensions
{
    /// <summary>
    /// The catalog (<see cref="RelayCatalog"/>): read before the silo serves, polled, and put in Relay's options; its
    /// editor behind the API and the portal. Registered after the binding of <see cref="RelayOptions"/>, so that its
    /// entries replace configuration's.
    /// </summary>
    internal static IServiceCollection AddRelayCatalog(this IServiceCollection services)
    {
        services.AddSingleton<RelayCatalog>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<RelayCatalog>());
        services.AddSingleton<CatalogOptionsSetup>();
        services.AddSingleton<IPostConfigureOptions<RelayOptions>>(sp => sp.GetRequiredService<CatalogOptionsSetup>());
        services.AddSingleton<IOptionsChangeTokenSource<RelayOptions>>(sp => sp.GetRequiredService<CatalogOptionsSetup>());
        services.AddSingleton<IOptions<RelayOptions>, CurrentRelayOptions>();
        services.AddSingleton<CatalogEditor>();
        return services;
    }
}
