using Microsoft.Extensions.Time.Testing;
using MimeKit;
using Relay.Adapters.Smtp;

namespace Relay.Adapters.Tests.Smtp;

/// <summary>The SMTP adapter against a real SMTP server (aiosmtpd) on 127.0.0.1.</summary>
public sealed class SmtpAdapterTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);

    private readonly CapturedLogs _logs = new();
    private SmtpTestServer _server = null!;

    public async Task InitializeAsync() => _server = await SmtpTestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private SmtpAdapter Adapter(Action<SmtpAdapterOptions>? configure = null)
    {
        var options = new SmtpAdapterOptions();
        configure?.Invoke(options);
        return new SmtpAdapter(Options.Create(options), new FakeTimeProvider(Now), TestMessages.Logger<SmtpAdapter>(_logs));
    }

    private SmtpDestinationOptions Destination(params string[] to) => new()
    {
        Protocol = "Smtp",
        Address = _server.Address,
        From = "Relay <relay@example.com>",
        To = to.Length == 0 ? ["ops@example.org", "Billing Team <billing@example.org>"] : [.. to],
        Subject = "Order {id}",
    };

    [Fact]
    public async Task Sends_the_payload_as_a_mail_with_From_To_Subject_and_a_Message_ID_from_the_message_id()
    {
        var payload = "{\"amount\": 200, \"note\": \"é\"}";
        var message = TestMessages.Outbound("order-123", payload, "application/json",
            headers: new Dictionary<string, string> { ["X-Tenant"] = "acme" }, correlationId: "req-9");

        var result = await Adapter().SendAsync(message, Destination(), Timeout, CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.Success, result);
        Assert.Equal(250, result.StatusCode);
        Assert.StartsWith("250 2.0.0 Ok: queued as ", result.Body);
        Assert.Equal("<order-123.target@example.com>", result.Headers!["Message-ID"]);

        var mail = Assert.Single(_server.Mails());
        Assert.Equal("relay@example.com", mail.MailFrom);
        Assert.Equal(["ops@example.org", "billing@example.org"], mail.RcptTos);
        Assert.Equal("order-123.target@example.com", mail.Message.MessageId);
        var from = Assert.Single(mail.Message.From.Mailboxes);
        Assert.Equal(("Relay", "relay@example.com"), (from.Name, from.Address));
        Assert.Equal(["ops@example.org", "billing@example.org"], mail.Message.To.Mailboxes.Select(m => m.Address));
        Assert.Equal("Order order-123", mail.Message.Subject);
        Assert.Equal(Now, mail.Message.Date);
        Assert.Equal("order-123", mail.Message.Headers["X-Relay-Message-Id"]);
        Assert.Equal("1", mail.Message.Headers["X-Relay-Attempt"]);
        Assert.Equal("req-9", mail.Message.Headers["X-Relay-Correlation-Id"]);
        Assert.Equal("acme", mail.Message.Headers["X-Tenant"]);
        var body = Assert.IsType<MimePart>(mail.Message.Body);
        Assert.Equal("application/json", body.ContentType.MimeType);
        Assert.Equal(ContentEncoding.Base64, body.ContentTransferEncoding);
        using var decoded = new MemoryStream();
        body.Content!.DecodeTo(decoded);
        Assert.Equal(Encoding.UTF8.GetBytes(payload), decoded.ToArray());
        Assert.Null(mail.Login);
    }

    [Fact]
    public async Task A_text_payload_stays_readable_in_quoted_printable()
    {
        var text = "Hello,\r\nthe invoice is ready: 200 €.\r\n";
        var message = TestMessages.Outbound("text-1", text, "text/plain; charset=utf-8");

        var result = await Adapter().SendAsync(message, Destination("ops@example.org"), Timeout, CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.Success, result);
        var mail = Assert.Single(_server.Mails());
        var body = Assert.IsType<TextPart>(mail.Message.Body);
        Assert.Equal(ContentEncoding.QuotedPrintable, body.ContentTransferEncoding);
        // Mail carries text with CRLF line breaks; a reader may hand them out as the platform's.
        Assert.Equal(text, body.Text.ReplaceLineEndings("\r\n"));
        Assert.Contains("the invoice is ready: 200 =E2=82=AC.", Encoding.ASCII.GetString(mail.Raw));
    }

    [Fact]
    public async Task Headers_of_a_message_cannot_add_recipients_or_replace_what_the_adapter_sets()
    {
        var headers = new Dictionary<string, string>
        {
            ["Cc"] = "intruder@evil.example",
            ["Bcc"] = "hidden@evil.example",
            ["Resent-To"] = "resent@evil.example",
            ["Subject"] = "forged",
            ["X-Relay-Attempt"] = "99",
            ["X-Keep"] = "kept",
        };

        var result = await Adapter().SendAsync(TestMessages.Outbound("headers-1", "x", headers: headers), Destination("ops@example.org"), Timeout, CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.Success, result);
        var mail = Assert.Single(_server.Mails());
        Assert.Equal(["ops@example.org"], mail.RcptTos);
        Assert.Empty(mail.Message.Cc);
        Assert.Empty(mail.Message.Bcc);
        Assert.Null(mail.Message.Headers["Resent-To"]);
        Assert.Equal("Order headers-1", mail.Message.Subject);
        Assert.Equal("1", mail.Message.Headers["X-Relay-Attempt"]);
        Assert.Equal("kept", mail.Message.Headers["X-Keep"]);
    }

    [Fact]
    public async Task Reply_headers_of_a_stored_message_are_left_out_when_the_destination_does_not_allow_them()
    {
        // Refused at the door since issue 15; a message stored before must not redirect replies or receipts either.
        var headers = new Dictionary<string, string>
        {
            ["reply-to"] = "attacker@evil.example",
            ["Disposition-Notification-To"] = "receipts@evil.example",
            ["Return-Receipt-To"] = "receipts@evil.example",
            ["X-Keep"] = "kept",
        };

        var result = await Adapter().SendAsync(TestMessages.Outbound("reply-1", "x", headers: headers), Destination("ops@example.org"), Timeout, CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.Success, result);
        var mail = Assert.Single(_server.Mails());
        Assert.Empty(mail.Message.ReplyTo);
        Assert.Null(mail.Message.Headers["Disposition-Notification-To"]);
        Assert.Null(mail.Message.Headers["Return-Receipt-To"]);
        Assert.Equal("kept", mail.Message.Headers["X-Keep"]);
    }

    [Fact]
    public async Task Reply_headers_of_a_message_go_out_when_the_destination_allows_them()
    {
        var destination = Destination("ops@example.org");
        destination.AllowReplyHeaders = true;
        var headers = new Dictionary<string, string>
        {
            ["Reply-To"] = "customer@example.net",
            ["Disposition-Notification-To"] = "customer@example.net",
        };

        var result = await Adapter().SendAsync(TestMessages.Outbound("reply-2", "x", headers: headers), destination, Timeout, CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.Success, result);
        var mail = Assert.Single(_server.Mails());
        Assert.Equal("customer@example.net", Assert.Single(mail.Message.ReplyTo.Mailboxes).Address);
        Assert.Equal("customer@example.net", mail.Message.Headers["Disposition-Notification-To"]);
        Assert.Equal(["ops@example.org"], mail.RcptTos);
    }

    [Fact]
    public async Task Authenticates_with_Username_and_Password_and_never_shows_the_password()
    {
        var destination = Destination("ops@example.org");
        destination.Username = SmtpTestServer.User;
        destination.Password = SmtpTestServer.Password;

        var result = await Adapter().SendAsync(TestMessages.Outbound("auth-1", "x"), destination, Timeout, CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.Success, result);
        Assert.Equal(SmtpTestServer.User, Assert.Single(_server.Mails()).Login);
        Assert.DoesNotContain(SmtpTestServer.Password, string.Join("\n", [result.Body, .. _logs.Lines]));
    }

    [Fact]
    public async Task Authenticates_with_a_password_read_from_a_file()
    {
        var folder = TempFolder.Create("relay-smtp-secret-");
        try
        {
            var file = Path.Combine(folder, "password");
            await File.WriteAllTextAsync(file, SmtpTestServer.Password + "\n");
            var destination = Destination("ops@example.org");
            destination.Username = SmtpTestServer.User;
            destination.Password = "${file:" + file + "}";

            var result = await Adapter().SendAsync(TestMessages.Outbound("auth-file-1", "x"), destination, Timeout, CancellationToken.None);

            AssertAttempt.Outcome(AttemptOutcome.Success, result);
            Assert.Equal(SmtpTestServer.User, Assert.Single(_server.Mails()).Login);
            Assert.DoesNotContain(SmtpTestServer.Password, string.Join("\n", [result.Body, .. _logs.Lines]));
        }
        finally
        {
            TempFolder.Delete(folder);
        }
    }

    [Fact]
    public async Task Refused_credentials_are_final_and_the_password_is_in_no_result_or_log()
    {
        var destination = Destination("ops@example.org");
        destination.Username = SmtpTestServer.User;
        destination.Password = "wrong-Pa55word";

        var result = await Adapter().SendAsync(TestMessages.Outbound("badauth-1", "x"), destination, Timeout, CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.NonRetryableFailure, result);
        Assert.Equal(535, result.StatusCode);
        Assert.StartsWith("Authentication failed", result.Error);
        Assert.DoesNotContain("wrong-Pa55word", string.Join("\n", [result.Error, result.Body, .. _logs.Lines]));
        Assert.Empty(_server.Mails());
    }

    [Fact]
    public async Task A_recipient_refused_with_550_is_final_and_no_one_gets_the_mail()
    {
        var result = await Adapter().SendAsync(TestMessages.Outbound("reject-1", "x"), Destination("ops@example.org", "reject-me@example.org"), Timeout, CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.NonRetryableFailure, result);
        Assert.Equal(550, result.StatusCode);
        Assert.Equal("550 5.1.1 Mailbox unavailable (RCPT TO reject-me@example.org)", result.Error);
        Assert.Empty(_server.Mails());
    }

    [Fact]
    public async Task A_recipient_refused_with_451_is_retryable()
    {
        var result = await Adapter().SendAsync(TestMessages.Outbound("busy-1", "x"), Destination("busy@example.org"), Timeout, CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.RetryableFailure, result);
        Assert.Equal(451, result.StatusCode);
        Assert.StartsWith("451 4.2.1 Mailbox busy", result.Error);
    }

    [Fact]
    public async Task A_451_after_the_mail_was_stored_is_retryable_and_the_retry_carries_the_same_Message_ID()
    {
        var adapter = Adapter();

        var first = await adapter.SendAsync(TestMessages.Outbound("flaky-1", "x"), Destination("flaky@example.org"), Timeout, CancellationToken.None);
        var second = await adapter.SendAsync(TestMessages.Outbound("flaky-1", "x", attempt: 2), Destination("flaky@example.org"), Timeout, CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.RetryableFailure, first);
        Assert.Equal(451, first.StatusCode);
        Assert.EndsWith("(DATA)", first.Error);
        AssertAttempt.Outcome(AttemptOutcome.Success, second);
        var mails = _server.Mails();
        Assert.Equal(2, mails.Count);
        Assert.Equal(mails[0].Message.MessageId, mails[1].Message.MessageId);
        Assert.Equal(["1", "2"], mails.Select(m => m.Message.Headers["X-Relay-Attempt"]));
    }

    [Fact]
    public async Task A_stopped_server_is_a_retryable_connection_refused()
    {
        await _server.StopAsync();

        var result = await Adapter().SendAsync(TestMessages.Outbound("down-1", "x"), Destination(), Timeout, CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.RetryableFailure, result);
        Assert.Equal("Connection refused", result.Error);
    }

    [Fact]
    public async Task UseTls_against_a_server_without_STARTTLS_is_final()
    {
        var destination = Destination("ops@example.org");
        destination.UseTls = true;

        var result = await Adapter().SendAsync(TestMessages.Outbound("notls-1", "x"), destination, Timeout, CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.NonRetryableFailure, result);
        Assert.Contains("STARTTLS", result.Error);
        Assert.Empty(_server.Mails());
    }

    [Fact]
    public async Task A_destination_without_a_valid_From_is_final_before_connecting()
    {
        var destination = Destination();
        destination.From = "not an address";

        var result = await Adapter().SendAsync(TestMessages.Outbound("nofrom-1", "x"), destination, Timeout, CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.NonRetryableFailure, result);
        Assert.Equal("The destination's From is not a mail address", result.Error);
    }
}
