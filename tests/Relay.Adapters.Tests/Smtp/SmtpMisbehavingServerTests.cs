using System.Diagnostics;
using Relay.Adapters.Smtp;

namespace Relay.Adapters.Tests.Smtp;

/// <summary>The SMTP adapter against servers that answer what a real one will not on demand.</summary>
public sealed class SmtpMisbehavingServerTests
{
    private static SmtpAdapter Adapter() =>
        new(Options.Create(new SmtpAdapterOptions()), TimeProvider.System, TestMessages.Logger<SmtpAdapter>(new CapturedLogs()));

    private static SmtpDestinationOptions Destination(ScriptedServer server, string? username = null) => new()
    {
        Protocol = "Smtp",
        Address = $"smtp://127.0.0.1:{server.Port}",
        From = "relay@example.com",
        To = ["ops@example.org"],
        Username = username,
        Password = username is null ? null : "pw",
    };

    /// <summary>Greets, answers EHLO with AUTH PLAIN LOGIN, then answers every command after it with <paramref name="reply"/>.</summary>
    private static ScriptedServer Server(string greeting, string? reply = null) => ScriptedServer.Start(async (c, stop) =>
    {
        await c.SendAsync(greeting + "\r\n", stop);
        if (!greeting.StartsWith("220", StringComparison.Ordinal))
        {
            return;
        }

        await c.ReadLineAsync(stop);
        await c.SendAsync("250-test\r\n250 AUTH PLAIN LOGIN\r\n", stop);
        while (await c.ReadLineAsync(stop) is { } line && !line.StartsWith("QUIT", StringComparison.Ordinal))
        {
            await c.SendAsync((reply ?? "250 OK") + "\r\n", stop);
        }
    });

    [Fact]
    public async Task A_421_greeting_is_retryable()
    {
        await using var server = Server("421 4.3.2 Service not available, closing channel");

        var result = await Adapter().SendAsync(TestMessages.Outbound("greet-1", "x"), Destination(server), TimeSpan.FromSeconds(5), CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.RetryableFailure, result);
        Assert.Equal(421, result.StatusCode);
    }

    [Fact]
    public async Task A_554_greeting_is_final()
    {
        await using var server = Server("554 5.3.2 No service for you");

        var result = await Adapter().SendAsync(TestMessages.Outbound("greet-2", "x"), Destination(server), TimeSpan.FromSeconds(5), CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.NonRetryableFailure, result);
        Assert.Equal(554, result.StatusCode);
    }

    [Fact]
    public async Task A_temporary_authentication_failure_454_is_retryable()
    {
        await using var server = Server("220 ready", "454 4.7.0 Temporary authentication failure");

        var result = await Adapter().SendAsync(TestMessages.Outbound("auth-454", "x"), Destination(server, username: "relay"), TimeSpan.FromSeconds(5), CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.RetryableFailure, result);
        Assert.Equal(454, result.StatusCode);
    }

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
}
