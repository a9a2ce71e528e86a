using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using Relay.Adapters.Ftp;

namespace Relay.Adapters.Tests.Ftp;

/// <summary>The FTP adapter against a real FTP server (pyftpdlib) on 127.0.0.1.</summary>
public sealed class FtpAdapterTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    private readonly CapturedLogs _logs = new();
    private FtpTestServer _server = null!;

    public async Task InitializeAsync() => _server = await FtpTestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private FtpAdapter Adapter(Action<FtpAdapterOptions>? configure = null, TimeProvider? time = null)
    {
        var options = new FtpAdapterOptions();
        configure?.Invoke(options);
        return new FtpAdapter(Options.Create(options), time ?? TimeProvider.System, TestMessages.Logger<FtpAdapter>(_logs));
    }

    private FtpDestinationOptions Destination(string folder = "inbox") => new()
    {
        Protocol = "Ftp",
        Address = _server.Url(folder),
        Username = FtpTestServer.User,
        Password = FtpTestServer.Password,
    };

    [Fact]
    public async Task Uploads_the_payload_as_a_file_named_from_the_message_id()
    {
        var payload = "{\"amount\": 200, \"note\": \"é\"}";

        var result = await Adapter().SendAsync(TestMessages.Outbound("order-123", payload), Destination(), Timeout, CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.Success, result);
        Assert.Equal(226, result.StatusCode);
        Assert.Null(result.Error);
        Assert.Equal("inbox/order-123.dat", result.Headers!["File"]);
        Assert.Equal(["order-123.dat"], _server.Files("inbox"));
        Assert.Equal(Encoding.UTF8.GetBytes(payload), _server.Read("inbox", "order-123.dat"));
        // The audit shows what was done, the password masked.
        Assert.Contains("> STOR inbox/order-123.dat", result.Body);
        Assert.Contains("< 226", result.Body);
        Assert.Contains("> PASS ****", result.Body);
        Assert.DoesNotContain(FtpTestServer.Password, result.Body);
    }

    [Fact]
    public async Task Bytes_travel_unchanged_in_binary_mode()
    {
        var bytes = Enumerable.Range(0, 256).Select(i => (byte)i).Concat("\r\n\n\r"u8.ToArray()).ToArray();
        var message = TestMessages.Outbound("binary-1", "") with { Payload = bytes, ContentType = "application/octet-stream" };

        var result = await Adapter().SendAsync(message, Destination(), Timeout, CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.Success, result);
        Assert.Equal(bytes, _server.Read("inbox", "binary-1.dat"));
    }

    [Fact]
    public async Task A_later_attempt_overwrites_the_file_of_an_earlier_one()
    {
        var adapter = Adapter();

        await adapter.SendAsync(TestMessages.Outbound("again-1", "first"), Destination(), Timeout, CancellationToken.None);
        var second = await adapter.SendAsync(TestMessages.Outbound("again-1", "second, longer", attempt: 2), Destination(), Timeout, CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.Success, second);
        Assert.Equal(["again-1.dat"], _server.Files("inbox"));
        Assert.Equal("second, longer", Encoding.UTF8.GetString(_server.Read("inbox", "again-1.dat")));
    }

    [Fact]
    public async Task The_file_name_template_and_an_unsafe_id_give_a_safe_name_in_the_folder()
    {
        var destination = Destination();
        destination.FileName = "relay-{id}.json";

        var result = await Adapter().SendAsync(TestMessages.Outbound("../../etc/passwd", "x"), destination, Timeout, CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.Success, result);
        Assert.Equal(["relay-%2E.%2F..%2Fetc%2Fpasswd.json"], _server.Files("inbox"));
    }

    [Fact]
    public async Task Logs_in_as_anonymous_without_a_Username()
    {
        var destination = new FtpDestinationOptions { Protocol = "Ftp", Address = $"ftp://127.0.0.1:{_server.Port}/" };

        var result = await Adapter().SendAsync(TestMessages.Outbound("anon-1", "hello"), destination, Timeout, CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.Success, result);
        Assert.Contains("> USER anonymous", result.Body);
        Assert.Equal(["anon-1.dat"], _server.Files("public"));
    }

    [Fact]
    public async Task Permission_denied_550_is_final()
    {
        var result = await Adapter().SendAsync(TestMessages.Outbound("denied-1", "x"), Destination("readonly"), Timeout, CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.NonRetryableFailure, result);
        Assert.Equal(550, result.StatusCode);
        Assert.StartsWith("550 ", result.Error);
        Assert.EndsWith("(STOR readonly/denied-1.dat)", result.Error);
        Assert.Empty(_server.Files("readonly"));
    }

    [Fact]
    public async Task A_folder_that_does_not_exist_is_final()
    {
        var result = await Adapter().SendAsync(TestMessages.Outbound("nofolder-1", "x"), Destination("missing"), Timeout, CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.NonRetryableFailure, result);
        Assert.Equal(550, result.StatusCode);
    }

    [Fact]
    public async Task A_wrong_password_530_is_final_and_the_password_is_in_no_result_or_log()
    {
        var destination = Destination();
        destination.Password = "wrong-Pa55word";

        var result = await Adapter().SendAsync(TestMessages.Outbound("badlogin-1", "x"), destination, Timeout, CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.NonRetryableFailure, result);
        Assert.Equal(530, result.StatusCode);
        Assert.EndsWith("(login)", result.Error);
        var everything = string.Join("\n", [result.Error, result.Body, .. _logs.Lines]);
        Assert.DoesNotContain("wrong-Pa55word", everything);
        Assert.Contains(_logs.Lines, l => l.Contains("badlogin-1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_password_read_from_a_file_logs_in_and_is_never_shown()
    {
        var folder = TempFolder.Create("relay-ftp-secret-");
        try
        {
            var file = Path.Combine(folder, "password");
            await File.WriteAllTextAsync(file, FtpTestServer.Password + "\n");
            var destination = Destination();
            destination.Password = "${file:" + file + "}";

            var result = await Adapter().SendAsync(TestMessages.Outbound("secret-file-1", "x"), destination, Timeout, CancellationToken.None);

            AssertAttempt.Outcome(AttemptOutcome.Success, result);
            Assert.Equal(["secret-file-1.dat"], _server.Files("inbox"));
            Assert.Contains("> PASS ****", result.Body);
            Assert.DoesNotContain(FtpTestServer.Password, string.Join("\n", [result.Body, .. _logs.Lines]));
        }
        finally
        {
            TempFolder.Delete(folder);
        }
    }

    [Fact]
    public async Task A_password_file_rotated_in_place_is_used_at_a_later_attempt_without_a_restart()
    {
        var folder = TempFolder.Create("relay-ftp-secret-");
        try
        {
            var file = Path.Combine(folder, "password");
            await File.WriteAllTextAsync(file, "old-Pa55word\n");
            var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
            var adapter = Adapter(time: time);
            var destination = Destination();
            destination.Password = "${file:" + file + "}";

            var before = await adapter.SendAsync(TestMessages.Outbound("rotated-1", "x"), destination, Timeout, CancellationToken.None);
            await File.WriteAllTextAsync(file, FtpTestServer.Password + "\n");
            // Read again at most every RereadInterval: within it, the attempt still uses what was read.
            var cached = await adapter.SendAsync(TestMessages.Outbound("rotated-1", "x", attempt: 2), destination, Timeout, CancellationToken.None);
            time.Advance(SecretReader.RereadInterval);
            var after = await adapter.SendAsync(TestMessages.Outbound("rotated-1", "x", attempt: 3), destination, Timeout, CancellationToken.None);

            Assert.Equal(530, before.StatusCode);
            Assert.Equal(530, cached.StatusCode);
            AssertAttempt.Outcome(AttemptOutcome.Success, after);
            Assert.Equal(["rotated-1.dat"], _server.Files("inbox"));
        }
        finally
        {
            TempFolder.Delete(folder);
        }
    }

    [Fact]
    public async Task A_password_variable_that_is_not_set_is_retryable_names_the_key_and_sends_nothing()
    {
        var destination = Destination();
        destination.Password = "${env:RELAY_TEST_UNSET_FTP_PASSWORD_4E}";

        var result = await Adapter().SendAsync(TestMessages.Outbound("unset-1", "x"), destination, Timeout, CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.RetryableFailure, result);
        Assert.Equal("Relay:Destinations:target:Password refers to the environment variable 'RELAY_TEST_UNSET_FTP_PASSWORD_4E', which is not set", result.Error);
        Assert.Null(result.Body);
        Assert.Empty(_server.Files("inbox"));
    }

    [Fact]
    public async Task A_stopped_server_is_a_retryable_connection_refused_and_a_restarted_one_takes_the_file()
    {
        await _server.StopAsync();

        var refused = await Adapter().SendAsync(TestMessages.Outbound("restart-1", "x"), Destination(), Timeout, CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.RetryableFailure, refused);
        Assert.Equal("Connection refused", refused.Error);
        Assert.Null(refused.StatusCode);

        await _server.StartAgainAsync();
        var delivered = await Adapter().SendAsync(TestMessages.Outbound("restart-1", "x", attempt: 2), Destination(), Timeout, CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.Success, delivered);
        Assert.Equal(["restart-1.dat"], _server.Files("inbox"));
    }

    [Fact]
    public async Task A_451_after_the_file_was_written_is_retryable_and_the_retry_overwrites_that_file()
    {
        var adapter = Adapter();

        var first = await adapter.SendAsync(TestMessages.Outbound("flaky-1", "payload"), Destination(), Timeout, CancellationToken.None);
        var second = await adapter.SendAsync(TestMessages.Outbound("flaky-1", "payload", attempt: 2), Destination(), Timeout, CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.RetryableFailure, first);
        Assert.Equal(451, first.StatusCode);
        AssertAttempt.Outcome(AttemptOutcome.Success, second);
        Assert.Equal(["flaky-1.dat"], _server.Files("inbox"));
    }
}
