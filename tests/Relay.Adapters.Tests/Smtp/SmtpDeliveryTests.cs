namespace Relay.Adapters.Tests.Smtp;

/// <summary>Messages to an SMTP destination through a real silo, to a real SMTP server.</summary>
public sealed class SmtpDeliveryTests : IAsyncLifetime
{
    private readonly CapturedLogs _logs = new();
    private SmtpTestServer _server = null!;
    private TestSilo _silo = null!;

    public async Task InitializeAsync()
    {
        _server = await SmtpTestServer.StartAsync();
        var settings = new SiloSettings()
            .Contract("quick", 20);
        void Mail(string name, params string[] to)
        {
            settings[$"Relay:Destinations:{name}:Protocol"] = "Smtp";
            // A bound, not a wait: the first call of a class (TLS, MailKit's start) can be slow on a busy machine.
            settings[$"Relay:Destinations:{name}:SyncTimeout"] = "00:00:10";
            settings[$"Relay:Destinations:{name}:Address"] = _server.Address;
            settings[$"Relay:Destinations:{name}:From"] = "relay@example.com";
            for (var i = 0; i < to.Length; i++)
            {
                settings[$"Relay:Destinations:{name}:To:{i}"] = to[i];
            }

            settings[$"Relay:Destinations:{name}:Subject"] = "Relay {id}";
            settings[$"Relay:Destinations:{name}:Username"] = SmtpTestServer.User;
            settings[$"Relay:Destinations:{name}:Password"] = SmtpTestServer.Password;
            settings[$"Relay:Destinations:{name}:Contract"] = "quick";
        }

        Mail("ops-mail", "ops@example.org", "audit@example.org");
        Mail("flaky-mail", "flaky@example.org");
        Mail("gone-mail", "reject@example.org");
        Mail("reply-mail", "ops@example.org");
        settings["Relay:Destinations:reply-mail:AllowReplyHeaders"] = "true";
        _silo = await TestSilo.StartAsync(settings, logs: _logs);
    }

    public async Task DisposeAsync()
    {
        await _silo.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task A_message_is_Delivered_as_a_mail_and_its_audit_shows_the_250()
    {
        var (response, body) = await _silo.SendAndReadAsync(new { id = "mail-1", destination = "ops-mail", payload = "Invoice ready", contentType = "text/plain" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Delivered", (string?)body["status"]);
        var delivery = body["deliveries"]![0]!;
        Assert.Equal(250, (int?)delivery["response"]!["statusCode"]);
        Assert.Equal("<mail-1.ops-mail@example.com>", (string?)delivery["response"]!["headers"]!["Message-ID"]);

        var mail = Assert.Single(_server.Mails());
        Assert.Equal(["ops@example.org", "audit@example.org"], mail.RcptTos);
        Assert.Equal("relay@example.com", mail.MailFrom);
        Assert.Equal("Relay mail-1", mail.Message.Subject);
        Assert.Equal("mail-1.ops-mail@example.com", mail.Message.MessageId);
        Assert.Equal("Invoice ready", mail.Message.TextBody);
        Assert.Equal(SmtpTestServer.User, mail.Login);

        var attempt = Assert.Single((await _silo.GetMessageAsync("mail-1"))!["attempts"]!.AsArray())!;
        Assert.Equal("Success", (string?)attempt["outcome"]);
        Assert.Equal(250, (int?)attempt["statusCode"]);
        Assert.StartsWith("250 2.0.0 Ok", (string?)attempt["responseBody"]);
    }

    [Fact]
    public async Task With_the_server_stopped_it_goes_InRetry_and_after_a_restart_it_is_Delivered()
    {
        await _server.StopAsync();

        var (response, body) = await _silo.SendAndReadAsync(new { id = "mail-down-1", destination = "ops-mail", payload = "x" });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("InRetry", (string?)body["status"]);
        Assert.Equal("Connection refused", (string?)body["deliveries"]![0]!["lastError"]);

        await _server.StartAgainAsync();
        await _silo.WaitForStatusAsync("mail-down-1", "Delivered");

        var mail = Assert.Single(_server.Mails());
        Assert.Equal("mail-down-1.ops-mail@example.com", mail.Message.MessageId);
        Assert.DoesNotContain(_logs.Lines, line => line.Contains(SmtpTestServer.Password, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Reply-To", "attacker@evil.example")]
    [InlineData("disposition-notification-to", "attacker@evil.example")]
    [InlineData("Bcc", "hidden@evil.example")]
    [InlineData("Subject", "forged")]
    public async Task A_header_the_mail_destination_does_not_take_is_refused_with_400_naming_it_and_no_mail_is_sent(string header, string value)
    {
        var id = "mail-header-" + header;
        using var response = await _silo.SendAsync(new { id, destination = "ops-mail", payload = "x", headers = new Dictionary<string, string> { [header] = value } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await TestSilo.ReadAsync(response);
        Assert.Contains($"'{header}'", (string?)problem["title"], StringComparison.Ordinal);
        Assert.Null(await _silo.GetMessageAsync(id));
        Assert.Empty(_server.Mails());
    }

    [Fact]
    public async Task A_Reply_To_goes_out_to_a_destination_that_allows_reply_headers()
    {
        var (response, body) = await _silo.SendAndReadAsync(new
        {
            id = "mail-reply-1", destination = "reply-mail", payload = "x",
            headers = new Dictionary<string, string> { ["Reply-To"] = "customer@example.net" },
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Delivered", (string?)body["status"]);
        var mail = Assert.Single(_server.Mails());
        Assert.Equal("customer@example.net", Assert.Single(mail.Message.ReplyTo.Mailboxes).Address);
        Assert.Equal(["ops@example.org"], mail.RcptTos);
    }

    [Fact]
    public async Task A_reply_lost_after_the_mail_was_stored_is_retried_with_the_same_Message_ID()
    {
        var (response, _) = await _silo.SendAndReadAsync(new { id = "mail-flaky-1", destination = "flaky-mail", payload = "x" });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        var final = await _silo.WaitForStatusAsync("mail-flaky-1", "Delivered");

        Assert.Equal([451, 250], final!["attempts"]!.AsArray().Select(a => (int?)a!["statusCode"]));
        var mails = _server.Mails();
        Assert.Equal(2, mails.Count);
        Assert.All(mails, m => Assert.Equal("mail-flaky-1.flaky-mail@example.com", m.Message.MessageId));
    }

    [Fact]
    public async Task A_mailbox_refused_with_550_dead_letters_at_once()
    {
        var (response, body) = await _silo.SendAndReadAsync(new { id = "mail-gone-1", destination = "gone-mail", payload = "x" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("DeadLettered", (string?)body["status"]);
        var delivery = body["deliveries"]![0]!;
        Assert.Equal(1, (int?)delivery["attempts"]);
        Assert.Equal("550 5.1.1 Mailbox unavailable (RCPT TO reject@example.org)", (string?)delivery["lastError"]);
        var attempt = Assert.Single((await _silo.GetMessageAsync("mail-gone-1"))!["attempts"]!.AsArray())!;
        Assert.Equal(550, (int?)attempt["statusCode"]);
        Assert.Empty(_server.Mails());
    }
}
