namespace Relay.Adapters.Tests.Ldap;

/// <summary>Messages to an LDAP destination through a real silo, to a real slapd.</summary>
public sealed class LdapDeliveryTests : IAsyncLifetime
{
    private readonly CapturedLogs _logs = new();
    private LdapTestServer _server = null!;
    private TestSilo _silo = null!;

    public async Task InitializeAsync()
    {
        _server = await LdapTestServer.StartAsync();
        _silo = await TestSilo.StartAsync(new SiloSettings
        {
            ["Relay:Destinations:directory:Protocol"] = "Ldap",
            // A bound, not a wait: the first call of a class (native library load, TLS) can be slow on a busy machine.
            ["Relay:Destinations:directory:SyncTimeout"] = "00:00:10",
            ["Relay:Destinations:directory:BindDn"] = LdapTestServer.RootDn,
            ["Relay:Destinations:directory:Password"] = LdapTestServer.Password,
        }
            .Contract("quick", 20)
            .Destination("directory", _server.Address, "quick"), logs: _logs);
    }

    public async Task DisposeAsync()
    {
        await _silo.DisposeAsync();
        await _server.DisposeAsync();
    }

    private static string Add(string uid) => $$"""
        { "operation": "add", "dn": "uid={{uid}},{{LdapTestServer.People}}",
          "attributes": { "objectClass": "inetOrgPerson", "uid": "{{uid}}", "cn": "Jane Roe", "sn": "Roe" } }
        """;

    [Fact]
    public async Task An_add_is_Delivered_and_its_audit_shows_result_code_0()
    {
        var (response, body) = await _silo.SendAndReadAsync(new { id = "ldap-1", destination = "directory", payload = Add("jroe") });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Delivered", (string?)body["status"]);
        Assert.Equal(0, (int?)body["deliveries"]![0]!["response"]!["statusCode"]);
        var entry = await _server.EntryAsync("uid=jroe," + LdapTestServer.People);
        Assert.NotNull(entry);
        Assert.Equal(["Jane Roe"], entry.Values("cn"));

        var attempt = Assert.Single((await _silo.GetMessageAsync("ldap-1"))!["attempts"]!.AsArray())!;
        Assert.Equal("Success", (string?)attempt["outcome"]);
        Assert.Equal(0, (int?)attempt["statusCode"]);
        Assert.StartsWith("add: 0 success", (string?)attempt["responseBody"]);
    }

    [Fact]
    public async Task With_the_server_stopped_it_goes_InRetry_and_after_a_restart_it_is_Delivered()
    {
        await _server.StopAsync();

        var (response, body) = await _silo.SendAndReadAsync(new { id = "ldap-down-1", destination = "directory", payload = Add("later") });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("InRetry", (string?)body["status"]);
        Assert.Equal("81 serverDown (bind)", (string?)body["deliveries"]![0]!["lastError"]);

        await _server.StartAgainAsync();
        await _silo.WaitForStatusAsync("ldap-down-1", "Delivered");

        Assert.NotNull(await _server.EntryAsync("uid=later," + LdapTestServer.People));
        Assert.DoesNotContain(_logs.Lines, line => line.Contains(LdapTestServer.Password, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_modify_of_a_missing_entry_dead_letters_at_once_with_noSuchObject()
    {
        var payload = $$"""
            { "operation": "modify", "dn": "uid=ghost,{{LdapTestServer.People}}",
              "changes": [ { "op": "replace", "attribute": "cn", "values": "Ghost" } ] }
            """;

        var (response, body) = await _silo.SendAndReadAsync(new { id = "ldap-ghost-1", destination = "directory", payload });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("DeadLettered", (string?)body["status"]);
        var delivery = body["deliveries"]![0]!;
        Assert.Equal(1, (int?)delivery["attempts"]);
        Assert.Equal("32 noSuchObject (modify)", (string?)delivery["lastError"]);
        var attempt = Assert.Single((await _silo.GetMessageAsync("ldap-ghost-1"))!["attempts"]!.AsArray())!;
        Assert.Equal(32, (int?)attempt["statusCode"]);
        Assert.DoesNotContain(_logs.Lines, line => line.Contains("uid=ghost", StringComparison.Ordinal));
    }
}
