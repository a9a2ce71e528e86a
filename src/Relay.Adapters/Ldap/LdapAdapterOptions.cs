namespace Relay.Adapters.Ldap;

/// <summary>Settings of the LDAP adapter itself, the same for every LDAP destination (those are in <c>Relay:Destinations</c>).</summary>
public sealed class LdapAdapterOptions
{
    /// <summary>
    /// LDAP calls (connect, TLS, bind, the operation) in progress at once, across every LDAP destination of the silo.
    /// The client library's calls block a thread, so they run on this many dedicated threads, never on the thread
    /// pool; an attempt beyond them waits its turn within its own timeout.
    /// </summary>
    public int MaxConcurrentCalls { get; set; } = 16;
}
