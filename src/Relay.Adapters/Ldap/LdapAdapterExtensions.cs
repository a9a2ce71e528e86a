using Microsoft.Extensions.DependencyInjection;
using Relay.Adapters.Ldap;

namespace Relay.Adapters;

public static class LdapAdapterExtensions
{
    /// <summary>Registers the LDAP adapter (<c>Protocol: Ldap</c>). On Linux it needs libldap (Debian: libldap-2.5-0).</summary>
    public static IServiceCollection AddRelayLdapAdapter(this IServiceCollection services, Action<LdapAdapterOptions>? configure = null) =>
        services.AddProtocolAdapter<LdapAdapter, LdapAdapterOptions>(LdapDestinationValidator.Protocol, configure);
}
