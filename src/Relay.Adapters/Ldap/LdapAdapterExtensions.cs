using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Relay.Adapters.Ldap;

namespace Relay.Adapters;

public static class LdapAdapterExtensions
{
    /// <summary>Registers the LDAP adapter (<c>Protocol: Ldap</c>). On Linux it needs libldap (Debian: libldap-2.5-0).</summary>
    public static IServiceCollection AddRelayLdapAdapter(this IServiceCollection services)
    {
        services.TryAddSingleton<ProtocolAdapters>();
        // Called twice, it must not register the adapter twice: ProtocolAdapters refuses two of one protocol.
        if (services.Any(d => d.ServiceType == typeof(LdapAdapter)))
        {
            return services;
        }

        services.AddSingleton<LdapAdapter>();
        services.AddSingleton<IProtocolAdapter>(sp => sp.GetRequiredService<LdapAdapter>());
        return services;
    }
}
