using System.Diagnostics;
using Relay.Adapters.Ftp;

namespace Relay.Adapters.Tests.Ftp;

/// <summary>The FTP client against servers that misbehave in ways a real one will not on demand.</summary>
public sealed class FtpMisbehavingServerTests
{
    private static FtpAdapter Adapter() =>
        new(Options.Create(new FtpAdapterOptions { MaxReplyBytes = 4096 }), TimeProvider.System, TestMessages.Logger<FtpAdapter>(new CapturedLogs()));

    private static FtpDestinationOptions Destination(ScriptedServer server) =>
        new() { Protocol = "Ftp", Address = $"ftp://127.0.0.1:{server.Port}/inbox/", Username = "u", Password = "p" };

    [Fact]
    public async Task A_server_that_never_greets_is_a_retryable_timeout_within_the_bound()
    {
        await using var server = ScriptedServer.Start((_, stop) => Task.Delay(Timeout.Infinite, stop));
        var started = Stopwatch.StartNew();

        var result = await Adapter().SendAsync(TestMessages.Outbound("silent-1", "x"), Destination(server), TimeSpan.FromMilliseconds(500), CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.RetryableFailure, result);
        Assert.Equal("No answer within 0.5 s (timeout)", result.Error);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(3), $"took {started.Elapsed}");
    }

    [Fact]
    public async Task A_421_greeting_is_retryable()
    {
        await using var server = ScriptedServer.Start((c, stop) => c.SendAsync("421 Too many connections, try later.\r\n", stop));

        var result = await Adapter().SendAsync(TestMessages.Outbound("busy-1", "x"), Destination(server), TimeSpan.FromSeconds(5), CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.RetryableFailure, result);
        Assert.Equal(421, result.StatusCode);
        Assert.Equal("421 Too many connections, try later. (connect)", result.Error);
    }

    [Fact]
    public async Task An_endless_reply_is_cut_at_the_limit_and_retryable()
    {
        await using var server = ScriptedServer.Start(async (c, stop) =>
        {
            await c.SendAsync("220-Welcome\r\n", stop);
            for (var i = 0; i < 10_000 && !stop.IsCancellationRequested; i++)
            {
                await c.SendAsync("220-and more and more and more\r\n", stop);
            }
        });

        var result = await Adapter().SendAsync(TestMessages.Outbound("endless-1", "x"), Destination(server), TimeSpan.FromSeconds(5), CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.RetryableFailure, result);
        Assert.Equal("The server's reply is longer than 4096 bytes.", result.Error);
    }

    [Fact]
    public async Task A_server_that_asks_for_an_account_is_final()
    {
        await using var server = ScriptedServer.Start(async (c, stop) =>
        {
            await c.SendAsync("220 ready\r\n", stop);
            await c.ReadLineAsync(stop);
            await c.SendAsync("331 password please\r\n", stop);
            await c.ReadLineAsync(stop);
            await c.SendAsync("332 Need account for login.\r\n", stop);
            await c.ReadLineAsync(stop);
        });

        var result = await Adapter().SendAsync(TestMessages.Outbound("acct-1", "x"), Destination(server), TimeSpan.FromSeconds(5), CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.NonRetryableFailure, result);
        Assert.Equal(332, result.StatusCode);
    }

    [Fact]
    public async Task A_server_that_hangs_up_mid_session_is_retryable()
    {
        await using var server = ScriptedServer.Start(async (c, stop) =>
        {
            await c.SendAsync("220 ready\r\n", stop);
            await c.ReadLineAsync(stop);
        });

        var result = await Adapter().SendAsync(TestMessages.Outbound("hangup-1", "x"), Destination(server), TimeSpan.FromSeconds(5), CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.RetryableFailure, result);
        Assert.Contains(result.Error, new[] { "Connection closed by the server", "Connection reset" });
    }

    [Fact]
    public async Task A_command_injection_through_the_address_is_refused_before_connecting()
    {
        var destination = new FtpDestinationOptions { Protocol = "Ftp", Address = "ftp://127.0.0.1:1/in%0D%0ADELE%20x/" };

        var result = await Adapter().SendAsync(TestMessages.Outbound("inject-1", "x"), destination, TimeSpan.FromSeconds(5), CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.NonRetryableFailure, result);
        Assert.Contains("control characters", result.Error);
    }

    [Fact]
    public async Task Without_EPSV_it_falls_back_to_PASV_and_connects_to_the_control_address_not_the_one_named()
    {
        string? stored = null;
        byte[]? received = null;
        await using var server = ScriptedServer.Start(async (c, stop) =>
        {
            async Task<string> Expect(string prefix, string reply)
            {
                var line = await c.ReadLineAsync(stop) ?? "";
                Assert.StartsWith(prefix, line, StringComparison.Ordinal);
                await c.SendAsync(reply + "\r\n", stop);
                return line;
            }

            await c.SendAsync("220 scripted\r\n", stop);
            await Expect("USER u", "331 password");
            await Expect("PASS p", "230 in");
            await Expect("TYPE I", "200 binary");
            await Expect("EPSV", "500 EPSV not understood");
            using var data = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
            data.Start();
            var port = ((System.Net.IPEndPoint)data.LocalEndpoint).Port;
            // An address the test machine cannot reach: the client must use the control connection's.
            await Expect("PASV", $"227 Entering Passive Mode (10,255,255,1,{port / 256},{port % 256})");
            using var accepted = await data.AcceptTcpClientAsync(stop);
            stored = await Expect("STOR ", "150 go ahead");
            using var content = new MemoryStream();
            await accepted.GetStream().CopyToAsync(content, stop);
            received = content.ToArray();
            await c.SendAsync("226 stored\r\n", stop);
            await Expect("QUIT", "221 bye");
        });

        var result = await Adapter().SendAsync(TestMessages.Outbound("pasv-1", "via pasv"), Destination(server), TimeSpan.FromSeconds(5), CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.Success, result);
        Assert.Equal(226, result.StatusCode);
        Assert.Equal("STOR inbox/pasv-1.dat", stored);
        Assert.Equal("via pasv"u8.ToArray(), received);
    }
}
