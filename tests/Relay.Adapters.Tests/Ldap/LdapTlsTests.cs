using Microsoft.Extensions.Options;
using Relay.Adapters.Ldap;
using Relay.Adapters.Tests.Servers;
using Relay.Contracts;
using Relay.Core.Delivery;
using Relay.Core.Options;
using Relay.Testing;

namespace Relay.Adapters.Tests.Ldap;

/// <summary>
/// LDAPS and StartTLS against a real slapd whose certificate a private CA (made with openssl) signed, and which requires
/// TLS for every operation; the CA is trusted per destination (<c>TrustedCaPath</c>), never for the whole process.
/// </summary>
public sealed class LdapTlsTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly CapturedLogs _logs = new();
    private readonly LdapAdapter _adapter;
    private LdapTestServer _server = null!;

    public LdapTlsTests() => _adapter = new(Options.Create(new LdapAdapterOptions()), TimeProvider.System, TestMessages.Logger<LdapAdapter>(_logs));

    public async Task InitializeAsync() => _server = await LdapTestServer.StartAsync(tls: true);

    public async Task DisposeAsync()
    {
        _adapter.Dispose();
        await _server.DisposeAsync();
    }

    private LdapDestinationOptions Destination(string address, bool useTls = false, bool trustCa = true) => new()
    {
        Protocol = "Ldap",
        Address = address,
        UseTls = useTls,
        TrustedCaPath = trustCa ? _server.CaPath : null,
        BindDn = LdapTestServer.RootDn,
        Password = LdapTestServer.Password,
    };

    private Task<AttemptResult> AddAsync(string uid, LdapDestinationOptions destination) =>
        _adapter.SendAsync(TestMessages.Outbound("tls-" + uid, $$"""
            { "operation": "add", "dn": "uid={{uid}},{{LdapTestServer.People}}",
              "attributes": { "objectClass": "inetOrgPerson", "uid": "{{uid}}", "cn": "{{uid}}", "sn": "{{uid}}" } }
            """), destination, Timeout, CancellationToken.None);

    [Fact]
    public async Task Over_ldaps_with_the_destinations_CA_the_entry_is_added()
    {
        var result = await AddAsync("over-ldaps", Destination(_server.LdapsAddress));

        AssertAttempt.Outcome(AttemptOutcome.Success, result);
        Assert.NotNull(await _server.EntryAsync("uid=over-ldaps," + LdapTestServer.People));
    }

    [Fact]
    public async Task With_UseTls_StartTLS_comes_before_the_bind_and_the_entry_is_added()
    {
        var result = await AddAsync("over-starttls", Destination(_server.Address, useTls: true));

        AssertAttempt.Outcome(AttemptOutcome.Success, result);
        Assert.NotNull(await _server.EntryAsync("uid=over-starttls," + LdapTestServer.People));
    }

    [Fact]
    public async Task Without_TLS_the_server_refuses_the_bind_with_confidentialityRequired()
    {
        var result = await AddAsync("plain", Destination(_server.Address));

        AssertAttempt.Outcome(AttemptOutcome.NonRetryableFailure, result);
        Assert.Equal("13 confidentialityRequired (bind)", result.Error);
        Assert.Null(await _server.EntryAsync("uid=plain," + LdapTestServer.People));
    }

    [Fact]
    public async Task A_destination_without_the_CA_is_refused_even_after_another_trusted_it()
    {
        // One destination trusts the private CA; the other does not, in the same process and adapter: the first's trust
        // must stay with its own connections (libldap's global TLS context is never touched).
        AssertAttempt.Outcome(AttemptOutcome.Success, await AddAsync("trusted", Destination(_server.LdapsAddress)));

        var ldaps = await AddAsync("untrusted-ldaps", Destination(_server.LdapsAddress, trustCa: false));
        var startTls = await AddAsync("untrusted-starttls", Destination(_server.Address, useTls: true, trustCa: false));

        AssertAttempt.Outcome(AttemptOutcome.RetryableFailure, ldaps);
        Assert.Equal("81 serverDown (bind)", ldaps.Error);
        AssertAttempt.Outcome(AttemptOutcome.RetryableFailure, startTls);
        Assert.Contains("(starttls)", startTls.Error);
        Assert.Null(await _server.EntryAsync("uid=untrusted-ldaps," + LdapTestServer.People));
        Assert.Null(await _server.EntryAsync("uid=untrusted-starttls," + LdapTestServer.People));
    }

    [Fact]
    public async Task A_TrustedCaPath_that_cannot_be_read_is_retryable_and_names_the_key()
    {
        var destination = Destination(_server.LdapsAddress);
        destination.TrustedCaPath = Path.Combine(Path.GetTempPath(), "relay-no-such-ca.pem");

        var result = await AddAsync("no-ca-file", destination);

        AssertAttempt.Outcome(AttemptOutcome.RetryableFailure, result);
        Assert.StartsWith("The destination's TrustedCaPath cannot be read", result.Error);
    }
}
