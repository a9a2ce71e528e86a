using System.Runtime.InteropServices;
using Microsoft.Extensions.Options;
using Relay.Adapters.Ldap;
using Relay.Adapters.Tests.Servers;
using Relay.Contracts;
using Relay.Core.Options;
using Relay.Testing;

namespace Relay.Adapters.Tests.Ldap;

/// <summary>
/// Many LDAP deliveries at once against one real slapd, in a process that gets signals (as any process whose child
/// processes end does: SIGCHLD). libldap waits for a reply in poll(2), which a signal interrupts (EINTR); without
/// LDAP_OPT_RESTART it then reports 81 serverDown from a healthy server. The signals go to the adapter's LDAP threads
/// only (named "Relay LDAP n"), so that the other test classes running meanwhile are left alone.
/// </summary>
public sealed class LdapConcurrencyTests : IAsyncLifetime
{
    private const int SigChld = 17;

    private readonly CapturedLogs _logs = new();
    private LdapTestServer _server = null!;

    public async Task InitializeAsync() => _server = await LdapTestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static string Add(string uid) => $$"""
        { "operation": "add", "dn": "uid={{uid}},{{LdapTestServer.People}}",
          "attributes": { "objectClass": "inetOrgPerson", "uid": "{{uid}}", "cn": "User {{uid}}", "sn": "{{uid}}" } }
        """;

    [Fact]
    public async Task Fifty_concurrent_adds_to_one_server_all_succeed_while_signals_arrive()
    {
        using var adapter = new LdapAdapter(Options.Create(new LdapAdapterOptions()), TimeProvider.System, TestMessages.Logger<LdapAdapter>(_logs));
        var destination = new LdapDestinationOptions
        {
            Protocol = "Ldap", Address = _server.Address, BindDn = LdapTestServer.RootDn, Password = LdapTestServer.Password,
        };
        using var stop = new CancellationTokenSource();
        var signals = Task.Factory.StartNew(() => SignalEveryThread(stop.Token), TaskCreationOptions.LongRunning);

        var failed = new List<string>();
        for (var round = 0; round < 3; round++)
        {
            var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => Task.Run(() => adapter.SendAsync(
                TestMessages.Outbound($"many-{round}-{i}", Add($"user{round}x{i}")), destination, TimeSpan.FromSeconds(20), CancellationToken.None))));
            failed.AddRange(results.Where(r => r.Outcome != AttemptOutcome.Success).Select(r => r.Error ?? "?"));
        }

        await stop.CancelAsync();
        var sent = await signals;
        Assert.True(sent > 100, $"only {sent} signals reached LDAP threads");
        Assert.True(failed.Count == 0, $"{failed.Count} of 150 failed ({sent} signals sent): {string.Join("; ", failed.Distinct())}");
        var entries = await _server.EntriesAsync();
        Assert.Equal(150, entries.Count(e => e.Dn.StartsWith("uid=user", StringComparison.Ordinal)));
    }

    /// <summary>SIGCHLD to every LDAP thread of this process, over and over: each one waiting in a system call sees EINTR.</summary>
    private static int SignalEveryThread(CancellationToken stop)
    {
        var pid = Environment.ProcessId;
        var sent = 0;
        while (!stop.IsCancellationRequested)
        {
            foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                if (int.TryParse(Path.GetFileName(task), out var tid) && IsLdapThread(task) && Tgkill(pid, tid, SigChld) == 0)
                {
                    sent++;
                }
            }

            // A millisecond between rounds, and no more once stopped.
            stop.WaitHandle.WaitOne(1);
        }

        return sent;
    }

    private static bool IsLdapThread(string task)
    {
        try
        {
            return File.ReadAllText(Path.Combine(task, "comm")).StartsWith("Relay LDAP", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false; // The thread ended meanwhile.
        }
    }

    [DllImport("libc", EntryPoint = "tgkill")]
    private static extern int Tgkill(int pid, int tid, int signal);
}
