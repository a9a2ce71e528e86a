namespace Relay.Adapters.Tests.Ldap;

/// <summary>
/// The tests against real slapd servers run one class at a time. Run side by side with the other LDAP class, an
/// attempt now and then got "81 serverDown" from its own, healthy server (seen twice in CI-like runs, not explained
/// yet: see the session note); the other protocols' tests still run in parallel with these.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LdapServers
{
    public const string Name = "LDAP servers";
}
