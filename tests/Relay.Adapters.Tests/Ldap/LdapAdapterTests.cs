using Microsoft.Extensions.Options;
using Relay.Adapters.Ldap;
using Relay.Core.Delivery;

namespace Relay.Adapters.Tests.Ldap;

/// <summary>The LDAP adapter against a real slapd on 127.0.0.1; what arrived is read with slapcat.</summary>
public sealed class LdapAdapterTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    private const string Jdoe = "uid=jdoe," + LdapTestServer.People;

    private readonly CapturedLogs _logs = new();
    private readonly LdapAdapter _adapter;
    private LdapTestServer _server = null!;

    public LdapAdapterTests() => _adapter = new(Options.Create(new LdapAdapterOptions()), TimeProvider.System, TestMessages.Logger<LdapAdapter>(_logs));

    public async Task InitializeAsync() => _server = await LdapTestServer.StartAsync();

    public async Task DisposeAsync()
    {
        _adapter.Dispose();
        await _server.DisposeAsync();
    }

    private LdapAdapter Adapter() => _adapter;

    private LdapDestinationOptions Destination(string? password = LdapTestServer.Password) => new()
    {
        Protocol = "Ldap",
        Address = _server.Address,
        BindDn = LdapTestServer.RootDn,
        Password = password,
    };

    private Task<AttemptResult> SendAsync(string id, string payload, LdapDestinationOptions? destination = null) =>
        Adapter().SendAsync(TestMessages.Outbound(id, payload), destination ?? Destination(), Timeout, CancellationToken.None);

    private static string AddJdoe => $$"""
        { "operation": "add", "dn": "{{Jdoe}}",
          "attributes": { "objectClass": ["inetOrgPerson"], "uid": "jdoe", "cn": "John Doe", "sn": "Doe",
                          "mail": ["jdoe@example.com", "john@example.com"], "description": "first" } }
        """;

    [Fact]
    public async Task Adds_an_entry()
    {
        var result = await SendAsync("add-1", AddJdoe);

        AssertAttempt.Outcome(AttemptOutcome.Success, result);
        Assert.Equal(0, result.StatusCode);
        Assert.Equal("add", result.Headers!["Operation"]);
        Assert.Equal(Jdoe, result.Headers!["Dn"]);
        Assert.StartsWith("add: 0 success", result.Body);
        var entry = await _server.EntryAsync(Jdoe);
        Assert.NotNull(entry);
        Assert.Equal(["John Doe"], entry.Values("cn"));
        Assert.Equal(["jdoe@example.com", "john@example.com"], entry.Values("mail"));
        Assert.Contains("inetOrgPerson", entry.Values("objectClass"));
    }

    [Fact]
    public async Task Modifies_an_entry_with_replace_add_and_delete()
    {
        AssertAttempt.Outcome(AttemptOutcome.Success, await SendAsync("add-2", AddJdoe));

        var result = await SendAsync("modify-2", $$"""
            { "operation": "modify", "dn": "{{Jdoe}}",
              "changes": [ { "op": "replace", "attribute": "cn", "values": ["Johnny Doe"] },
                           { "op": "add", "attribute": "telephoneNumber", "values": "+1 555 0100" },
                           { "op": "delete", "attribute": "mail", "values": ["john@example.com"] },
                           { "op": "delete", "attribute": "description" } ] }
            """);

        AssertAttempt.Outcome(AttemptOutcome.Success, result);
        Assert.Equal(0, result.StatusCode);
        var entry = (await _server.EntryAsync(Jdoe))!;
        Assert.Equal(["Johnny Doe"], entry.Values("cn"));
        Assert.Equal(["+1 555 0100"], entry.Values("telephoneNumber"));
        Assert.Equal(["jdoe@example.com"], entry.Values("mail"));
        Assert.Empty(entry.Values("description"));
    }

    [Fact]
    public async Task Deletes_an_entry()
    {
        AssertAttempt.Outcome(AttemptOutcome.Success, await SendAsync("add-3", AddJdoe));

        var result = await SendAsync("delete-3", $$"""{ "operation": "delete", "dn": "{{Jdoe}}" }""");

        AssertAttempt.Outcome(AttemptOutcome.Success, result);
        Assert.Null(await _server.EntryAsync(Jdoe));
        Assert.NotNull(await _server.EntryAsync(LdapTestServer.People));
    }

    [Fact]
    public async Task A_modify_of_an_entry_that_does_not_exist_is_a_final_noSuchObject()
    {
        var result = await SendAsync("modify-missing", $$"""
            { "operation": "modify", "dn": "uid=nobody,{{LdapTestServer.People}}",
              "changes": [ { "op": "replace", "attribute": "cn", "values": ["x"] } ] }
            """);

        AssertAttempt.Outcome(AttemptOutcome.NonRetryableFailure, result);
        Assert.Equal(32, result.StatusCode);
        Assert.Equal("32 noSuchObject (modify)", result.Error);
        Assert.Contains($"matched DN: {LdapTestServer.People}", result.Body);
        // The DN is the payload's: in the audit, never in the logs.
        Assert.DoesNotContain(_logs.Lines, line => line.Contains("uid=nobody", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Adding_an_entry_twice_is_a_final_entryAlreadyExists()
    {
        AssertAttempt.Outcome(AttemptOutcome.Success, await SendAsync("add-4", AddJdoe));

        var result = await SendAsync("add-4-again", AddJdoe);

        AssertAttempt.Outcome(AttemptOutcome.NonRetryableFailure, result);
        Assert.Equal("68 entryAlreadyExists (add)", result.Error);
    }

    [Fact]
    public async Task An_entry_the_schema_refuses_is_final()
    {
        var result = await SendAsync("add-nosn", $$"""
            { "operation": "add", "dn": "{{Jdoe}}", "attributes": { "objectClass": "inetOrgPerson", "cn": "John" } }
            """);

        AssertAttempt.Outcome(AttemptOutcome.NonRetryableFailure, result);
        Assert.Equal(65, result.StatusCode);
        Assert.Equal("65 objectClassViolation (add)", result.Error);
        Assert.False(string.IsNullOrEmpty(result.Body));
    }

    [Fact]
    public async Task Binds_with_a_password_read_from_a_file()
    {
        var folder = TempFolder.Create("relay-ldap-secret-");
        try
        {
            var file = Path.Combine(folder, "password");
            await File.WriteAllTextAsync(file, LdapTestServer.Password + "\n");

            var result = await SendAsync("bind-file-1", AddJdoe, Destination(password: "${file:" + file + "}"));

            AssertAttempt.Outcome(AttemptOutcome.Success, result);
            Assert.NotNull(await _server.EntryAsync(Jdoe));
            Assert.DoesNotContain(LdapTestServer.Password, string.Join("\n", [result.Error, result.Body, .. _logs.Lines]));
        }
        finally
        {
            TempFolder.Delete(folder);
        }
    }

    [Fact]
    public async Task A_wrong_password_is_a_final_invalidCredentials_and_appears_nowhere()
    {
        var result = await SendAsync("badbind-1", AddJdoe, Destination(password: "wrong-Pa55word"));

        AssertAttempt.Outcome(AttemptOutcome.NonRetryableFailure, result);
        Assert.Equal(49, result.StatusCode);
        Assert.Equal("49 invalidCredentials (bind)", result.Error);
        Assert.DoesNotContain("wrong-Pa55word", string.Join("\n", [result.Error, result.Body, .. _logs.Lines]));
        Assert.Null(await _server.EntryAsync(Jdoe));
    }

    [Fact]
    public async Task A_stopped_server_is_a_retryable_serverDown_and_a_restarted_one_takes_the_entry()
    {
        await _server.StopAsync();

        var down = await SendAsync("down-1", AddJdoe);

        AssertAttempt.Outcome(AttemptOutcome.RetryableFailure, down);
        Assert.Equal(81, down.StatusCode);
        Assert.Equal("81 serverDown (bind)", down.Error);

        await _server.StartAgainAsync();
        AssertAttempt.Outcome(AttemptOutcome.Success, await SendAsync("down-1", AddJdoe));
        Assert.NotNull(await _server.EntryAsync(Jdoe));
    }

    [Fact]
    public async Task A_payload_that_is_no_LDAP_operation_is_final_and_names_the_problem()
    {
        var result = await SendAsync("bad-payload", """{ "operation": "merge", "dn": "uid=x" }""");

        AssertAttempt.Outcome(AttemptOutcome.NonRetryableFailure, result);
        Assert.Null(result.StatusCode);
        Assert.Equal("The payload is not an LDAP operation: 'operation' must be add, modify or delete", result.Error);
    }

    [Fact]
    public async Task A_server_that_never_answers_is_a_retryable_timeout_within_the_bound()
    {
        await using var silent = ScriptedServer.Start((_, stop) => Task.Delay(System.Threading.Timeout.Infinite, stop));
        var destination = Destination();
        destination.Address = $"ldap://127.0.0.1:{silent.Port}/{LdapTestServer.Suffix}";
        var started = System.Diagnostics.Stopwatch.StartNew();

        var result = await Adapter().SendAsync(TestMessages.Outbound("silent-1", AddJdoe), destination, TimeSpan.FromMilliseconds(500), CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.RetryableFailure, result);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(3), $"took {started.Elapsed}");
    }

    [Fact]
    public async Task An_entry_outside_the_base_DN_is_final_and_the_directory_is_untouched()
    {
        var destination = Destination();
        destination.Address = $"ldap://127.0.0.1:{_server.Port}/{LdapTestServer.People}";
        var intruder = "cn=intruder," + LdapTestServer.Suffix;

        var result = await SendAsync("outside-1", $$"""
            { "operation": "add", "dn": "{{intruder}}", "attributes": { "objectClass": "person", "cn": "intruder", "sn": "x" } }
            """, destination);

        AssertAttempt.Outcome(AttemptOutcome.NonRetryableFailure, result);
        Assert.Equal($"The entry is outside the destination's base DN {LdapTestServer.People} (add)", result.Error);
        Assert.Contains(intruder, result.Body);
        Assert.Null(await _server.EntryAsync(intruder));
        Assert.DoesNotContain(_logs.Lines, line => line.Contains("intruder", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_DN_ending_with_the_base_as_text_only_is_outside()
    {
        var destination = Destination();
        destination.Address = $"ldap://127.0.0.1:{_server.Port}/dc=test";

        var result = await SendAsync("outside-2", """{ "operation": "delete", "dn": "ou=people,dc=relay\\,dc=test" }""", destination);

        AssertAttempt.Outcome(AttemptOutcome.NonRetryableFailure, result);
        Assert.StartsWith("The entry is outside the destination's base DN dc=test", result.Error);
    }

    [Fact]
    public async Task A_silent_server_holds_at_most_MaxConcurrentCalls_threads_and_each_only_for_its_timeout()
    {
        var open = 0;
        var accepted = 0;
        await using var silent = ScriptedServer.Start(async (connection, stop) =>
        {
            Interlocked.Increment(ref open);
            Interlocked.Increment(ref accepted);
            try
            {
                // Never answers; reads until the client closes its end.
                while (await connection.ReadLineAsync(stop) is not null)
                {
                }
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException)
            {
            }
            finally
            {
                Interlocked.Decrement(ref open);
            }
        });
        using var adapter = new LdapAdapter(Options.Create(new LdapAdapterOptions { MaxConcurrentCalls = 4 }), TimeProvider.System, TestMessages.Logger<LdapAdapter>(_logs));
        var destination = Destination();
        destination.Address = $"ldap://127.0.0.1:{silent.Port}/{LdapTestServer.Suffix}";

        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            adapter.SendAsync(TestMessages.Outbound($"silent-many-{i}", AddJdoe), destination, TimeSpan.FromMilliseconds(500), CancellationToken.None)));

        Assert.All(results, r => AssertAttempt.Outcome(AttemptOutcome.RetryableFailure, r));
        // The first four take the four threads for their whole 500 ms; the other sixteen expire waiting and are never
        // sent (a thread that frees a hair before a waiting attempt's deadline may still take it: hence not exactly 4).
        Assert.InRange(Volatile.Read(ref accepted), 1, 8);
        // libldap's own time limit (the attempt's timeout) ends each blocked call: the client closes its connections.
        await Eventually.Until(() => Task.FromResult(Volatile.Read(ref open)), n => n == 0, TimeSpan.FromSeconds(10), "every connection to the silent server closed by the client");
        // And the threads are free again for a server that answers.
        AssertAttempt.Outcome(AttemptOutcome.Success, await adapter.SendAsync(TestMessages.Outbound("after-silent", AddJdoe), Destination(), Timeout, CancellationToken.None));
    }
}
