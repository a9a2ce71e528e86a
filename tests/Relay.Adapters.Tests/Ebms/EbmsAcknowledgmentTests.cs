using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace Relay.Adapters.Tests.Ebms;

/// <summary>
/// A real silo with ebXML destinations whose partner acknowledges asynchronously (<c>SyncReply: false</c>): each message
/// waits in AwaitingAcknowledgment until the partner's MSH posts its acknowledgment or error list to <c>POST /ebms</c>.
/// </summary>
public sealed class EbmsAcknowledgmentFixture : IAsyncLifetime
{
    public const string Key = "partner-key-0123456789";
    public const string OtherKey = "other-partner-key-0123456789";

    public EbmsTestReceiver Msh { get; private set; } = null!;
    public TestDestination Callbacks { get; private set; } = null!;
    public TestSilo Silo { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Msh = await EbmsTestReceiver.StartAsync();
        Callbacks = await TestDestination.StartAsync();
        // patient: the acknowledgment has a minute; quick: it has 200 ms per attempt, three attempts.
        var settings = new SiloSettings()
            .Contract("patient", 3, "00:01:00")
            .Contract("quick", 3)
            .Destination("callbacks", Callbacks.Url("/notify"), "quick");
        foreach (var (name, contract, key) in new[] { ("async", "patient", Key), ("async-quick", "quick", Key), ("other", "patient", OtherKey) })
        {
            settings.Destination(name, Msh.Url("/" + name), contract);
            settings[$"Relay:Destinations:{name}:Protocol"] = "Ebms2";
            settings[$"Relay:Destinations:{name}:Notify"] = "callbacks";
            settings[$"Relay:Destinations:{name}:Ebms:FromPartyId"] = "urn:test:relay";
            settings[$"Relay:Destinations:{name}:Ebms:ToPartyId"] = "urn:test:partner";
            settings[$"Relay:Destinations:{name}:Ebms:CpaId"] = "cpa-test";
            settings[$"Relay:Destinations:{name}:Ebms:Service"] = "urn:test:orders";
            settings[$"Relay:Destinations:{name}:Ebms:Action"] = "NewOrder";
            settings[$"Relay:Destinations:{name}:Ebms:SyncReply"] = "false";
            settings[$"Relay:Destinations:{name}:Ebms:PartnerKey"] = key;
            // The partner's MSH answers the POST with 200 and no body: its acknowledgment comes later.
            Msh.Answer("/" + name, new EbmsAnswer.Status(200));
        }

        Silo = await TestSilo.StartAsync(settings);
    }

    public async Task DisposeAsync()
    {
        await Silo.DisposeAsync();
        await Callbacks.DisposeAsync();
        await Msh.DisposeAsync();
    }
}

public sealed class EbmsAcknowledgmentTests(EbmsAcknowledgmentFixture relay) : IClassFixture<EbmsAcknowledgmentFixture>
{
    private static object Message(string id, string destination) =>
        new { id, destination, payload = "<Order/>", contentType = "application/xml" };

    /// <summary>Posts an ebMS signal to the silo's <c>/ebms</c> as the partner's MSH would, with HTTP Basic.</summary>
    internal static async Task<HttpResponseMessage> PostAsync(HttpClient client, string body, string? user = "async", string? key = EbmsAcknowledgmentFixture.Key,
        string contentType = "text/xml; charset=utf-8")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/ebms") { Content = new StringContent(body, Encoding.UTF8) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        request.Headers.TryAddWithoutValidation("SOAPAction", "\"ebXML\"");
        if (user is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{key}")));
        }

        return await client.SendAsync(request);
    }

    private static string? Answer(HttpResponseMessage response) =>
        response.Headers.TryGetValues("X-Relay-Acknowledgment", out var values) ? values.Single() : null;

    private async Task<string> SentMessageIdAsync(string path, string conversation) =>
        (await Eventually.Until(() => Task.FromResult(relay.Msh.ReceivedAt(path).FirstOrDefault(r => r.ConversationId == conversation)), r => r is not null,
            what: $"{conversation} at the partner"))!.MessageId!;

    [Fact]
    public async Task The_message_awaits_its_acknowledgment_and_one_posted_later_delivers_it_once()
    {
        var (response, body) = await relay.Silo.SendAndReadAsync(Message("async-ack-1", "async"));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("AwaitingAcknowledgment", (string?)body["status"]);
        var delivery = body["deliveries"]![0]!;
        Assert.Equal("AwaitingAcknowledgment", (string?)delivery["status"]);
        Assert.NotNull((string?)delivery["nextAttemptAt"]);
        Assert.Null((string?)delivery["lastError"]);
        var sent = Assert.Single(relay.Msh.ReceivedAt("/async"), r => r.ConversationId == "async-ack-1");
        Assert.Empty(sent.Problems);
        Assert.True(sent.AckRequested);
        Assert.False(sent.SyncReply);

        var ack = await PostAsync(relay.Silo.Client, EbmsReplies.Acknowledgment(sent.MessageId!));
        Assert.Equal(HttpStatusCode.OK, ack.StatusCode);
        Assert.Equal("Completed", Answer(ack));

        var delivered = await relay.Silo.GetMessageAsync("async-ack-1");
        Assert.Equal("Delivered", (string?)delivered!["status"]);
        var acknowledged = Assert.Single(delivered["events"]!.AsArray(), e => (string?)e!["action"] == "Acknowledged");
        Assert.Equal($"eb:Acknowledgment of {sent.MessageId}", (string?)acknowledged!["detail"]);

        // The same acknowledgment again (the partner retried its post): answered, nothing changes.
        var again = await PostAsync(relay.Silo.Client, EbmsReplies.Acknowledgment(sent.MessageId!));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal("AlreadyFinal", Answer(again));
        var after = await relay.Silo.GetMessageAsync("async-ack-1");
        Assert.Single(after!["events"]!.AsArray(), e => (string?)e!["action"] == "Acknowledged");
        Assert.Single(relay.Msh.ReceivedAt("/async"), r => r.ConversationId == "async-ack-1");
    }

    [Fact]
    public async Task An_error_list_with_a_final_error_posted_later_dead_letters_at_once()
    {
        await relay.Silo.SendAndReadAsync(Message("async-final-1", "async"));
        var messageId = await SentMessageIdAsync("/async", "async-final-1");

        var posted = await PostAsync(relay.Silo.Client, EbmsReplies.ErrorList(messageId, ("SecurityFailure", "Error", "Unknown certificate")));

        Assert.Equal("Completed", Answer(posted));
        var message = await relay.Silo.GetMessageAsync("async-final-1");
        Assert.Equal("DeadLettered", (string?)message!["status"]);
        Assert.Equal("ebXML error SecurityFailure (Error): Unknown certificate", (string?)message["deliveries"]![0]!["lastError"]);
        Assert.Single(relay.Msh.ReceivedAt("/async"), r => r.ConversationId == "async-final-1");
    }

    [Fact]
    public async Task A_DeliveryFailure_posted_later_puts_the_delivery_in_retry()
    {
        await relay.Silo.SendAndReadAsync(Message("async-df-1", "async"));
        var messageId = await SentMessageIdAsync("/async", "async-df-1");

        var posted = await PostAsync(relay.Silo.Client, EbmsReplies.ErrorList(messageId, ("DeliveryFailure", "Error", "Party down")));

        Assert.Equal("Completed", Answer(posted));
        var message = await relay.Silo.GetMessageAsync("async-df-1");
        Assert.Equal("InRetry", (string?)message!["status"]);
        Assert.Equal("ebXML error DeliveryFailure (Error): Party down", (string?)message["deliveries"]![0]!["lastError"]);
    }

    [Fact]
    public async Task Without_an_acknowledgment_every_attempt_carries_the_same_MessageId_until_the_contract_ends_with_a_notification()
    {
        var (_, body) = await relay.Silo.SendAndReadAsync(Message("async-none-1", "async-quick"));
        Assert.Equal("AwaitingAcknowledgment", (string?)body["status"]);

        var final = await relay.Silo.WaitForStatusAsync("async-none-1", "DeadLettered");

        var sent = relay.Msh.ReceivedAt("/async-quick").Where(r => r.ConversationId == "async-none-1").ToList();
        Assert.Equal(3, sent.Count);
        Assert.Single(sent.Select(r => r.MessageId).Distinct());
        Assert.All(sent, r => Assert.Empty(r.Problems));
        Assert.StartsWith("No acknowledgment within", (string?)final!["deliveries"]![0]!["lastError"], StringComparison.Ordinal);
        Assert.Contains("(the last one)", (string?)final["deliveries"]![0]!["lastError"], StringComparison.Ordinal);
        var notification = await Eventually.Until(() => Task.FromResult(relay.Callbacks.ReceivedAt("/notify").FirstOrDefault(r => r.Text.Contains("async-none-1", StringComparison.Ordinal))),
            r => r is not null, what: "the final notification");
        var json = JsonNode.Parse(notification!.Text)!;
        Assert.Equal("DeadLettered", (string?)json["status"]);
        Assert.Equal(3, (int?)json["attempts"]);

        // An acknowledgment after the last deadline changes nothing.
        var late = await PostAsync(relay.Silo.Client, EbmsReplies.Acknowledgment(sent[0].MessageId!), user: "async-quick");
        Assert.Equal("AlreadyFinal", Answer(late));
        Assert.Equal("DeadLettered", (string?)(await relay.Silo.GetMessageAsync("async-none-1"))!["status"]);
    }

    [Fact]
    public async Task An_acknowledgment_of_an_unknown_message_or_of_another_destination_is_answered_and_ignored()
    {
        await relay.Silo.SendAndReadAsync(Message("async-other-1", "other"));
        var messageId = await SentMessageIdAsync("/other", "async-other-1");

        // The partner of "async" cannot complete a delivery of "other", whose partner has another key.
        var foreign = await PostAsync(relay.Silo.Client, EbmsReplies.Acknowledgment(messageId));
        Assert.Equal(HttpStatusCode.OK, foreign.StatusCode);
        Assert.Equal("Unknown", Answer(foreign));
        Assert.Equal("AwaitingAcknowledgment", (string?)(await relay.Silo.GetMessageAsync("async-other-1"))!["status"]);

        foreach (var unknown in new[] { "never-sent.async.0123456789abcdef@relay", "3f2a@partner", "no-such.async.0123456789abcdef@relay" })
        {
            var answered = await PostAsync(relay.Silo.Client, EbmsReplies.Acknowledgment(unknown));
            Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
            Assert.Equal("Unknown", Answer(answered));
        }

        // A MessageId of the right shape but not the delivery's current one (as before a payload edit).
        await relay.Silo.SendAndReadAsync(Message("async-stale-1", "async"));
        var stale = await PostAsync(relay.Silo.Client, EbmsReplies.Acknowledgment("async-stale-1.async.0123456789abcdef@relay"));
        Assert.Equal("NotCurrent", Answer(stale));
        Assert.Equal("AwaitingAcknowledgment", (string?)(await relay.Silo.GetMessageAsync("async-stale-1"))!["status"]);

        var own = await PostAsync(relay.Silo.Client, EbmsReplies.Acknowledgment(messageId), user: "other", key: EbmsAcknowledgmentFixture.OtherKey);
        Assert.Equal("Completed", Answer(own));
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("async", "wrong-key-0123456789")]
    [InlineData("other", EbmsAcknowledgmentFixture.Key)]
    [InlineData("callbacks", EbmsAcknowledgmentFixture.Key)]
    [InlineData("nobody", EbmsAcknowledgmentFixture.Key)]
    public async Task A_post_without_the_destination_s_partner_key_is_refused(string? user, string? key)
    {
        var response = await PostAsync(relay.Silo.Client, EbmsReplies.Acknowledgment("x.async.0123456789abcdef@relay"), user, key);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.StartsWith("Basic", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.Contains("<faultcode>SOAP:Client</faultcode>", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task What_cannot_be_read_is_refused_with_a_SOAP_fault_and_changes_nothing()
    {
        var dtd = "<?xml version=\"1.0\"?><!DOCTYPE e [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
            + $"<SOAP:Envelope xmlns:SOAP=\"{Relay.Adapters.Ebms.EbmsNames.Soap}\"><SOAP:Body>&x;</SOAP:Body></SOAP:Envelope>";
        var business = EbmsReplies.Acknowledgment("x@relay").Replace("eb:Acknowledgment", "eb:Other", StringComparison.Ordinal);
        foreach (var (body, reason) in new[] { ("not xml", "not XML"), (dtd, "DTD"), (business, "only eb:Acknowledgment and eb:ErrorList") })
        {
            var response = await PostAsync(relay.Silo.Client, body);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var text = await response.Content.ReadAsStringAsync();
            Assert.Contains("<faultcode>SOAP:Client</faultcode>", text, StringComparison.Ordinal);
            Assert.Contains(reason, text, StringComparison.Ordinal);
        }

        var large = await PostAsync(relay.Silo.Client, new string('a', Relay.Silo.Ebms.EbmsEndpoints.MaxBodyBytes + 1));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, large.StatusCode);
    }

    [Fact]
    public async Task An_acknowledgment_in_a_multipart_related_message_is_read_too()
    {
        await relay.Silo.SendAndReadAsync(Message("async-mp-1", "async"));
        var messageId = await SentMessageIdAsync("/async", "async-mp-1");
        var package = Relay.Adapters.Ebms.EbmsPackage.Build(Encoding.UTF8.GetBytes(EbmsReplies.Acknowledgment(messageId)), "ack@partner", "{}"u8.ToArray(), "x@partner", "application/json");

        using var request = new HttpRequestMessage(HttpMethod.Post, "/ebms") { Content = new ByteArrayContent(package.Body) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", package.ContentType);
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"async:{EbmsAcknowledgmentFixture.Key}")));
        var response = await relay.Silo.Client.SendAsync(request);

        Assert.Equal("Completed", Answer(response));
        Assert.Equal("Delivered", (string?)(await relay.Silo.GetMessageAsync("async-mp-1"))!["status"]);
    }
}
