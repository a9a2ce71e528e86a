namespace Relay.Core.Tests.Messages;

public class MessageValidatorTests
{
    private static RelayOptions Options() => new()
    {
        Contracts =
        {
            ["fast"] = new RetryContractOptions { MaxAttempts = 5, Delay = TimeSpan.FromSeconds(5) },
            ["slow"] = new RetryContractOptions { MaxAttempts = 5, Delay = TimeSpan.FromHours(12) },
        },
        Destinations =
        {
            ["billing"] = new DestinationOptions { Address = "http://127.0.0.1:9000/bill", Contract = "fast", Notify = "app-callbacks" },
            ["shipping"] = new DestinationOptions { Address = "http://127.0.0.1:9001/ship" },
            ["app-callbacks"] = new DestinationOptions { Address = "http://127.0.0.1:9100/notify", Contract = "fast" },
        },
        Topics = { ["order.created"] = TopicOptions.Of("billing", "shipping", "billing") },
        Limits = { MaxPayloadBytes = 1024 },
    };

    private static SendRequest Good() => new()
    {
        Id = "order-123",
        Destination = "billing",
        Payload = "{\"amount\": 200}",
        ContentType = "application/json",
        Headers = new() { ["X-Tenant"] = "acme" },
        Contract = "fast",
        Notify = "app-callbacks",
        OrderingKey = "customer-42",
        CorrelationId = "req-9",
    };

    private static ValidatedMessage Valid(SendRequest request, RelayOptions? options = null)
    {
        var ok = MessageValidator.TryValidate(request, options ?? Options(), () => "generated-id", out var message, out var error);
        Assert.True(ok, error?.Title);
        Assert.Null(error);
        return Assert.IsType<ValidatedMessage>(message);
    }

    private static RelayError Refused(SendRequest? request, int statusCode, RelayOptions? options = null)
    {
        var ok = MessageValidator.TryValidate(request, options ?? Options(), () => "generated-id", out var message, out var error);
        Assert.False(ok);
        Assert.Null(message);
        Assert.NotNull(error);
        Assert.Equal(statusCode, error.StatusCode);
        Assert.False(string.IsNullOrWhiteSpace(error.Title));
        return error;
    }

    private static SendRequest With(Action<SendRequest> change)
    {
        var request = Good();
        change(request);
        return request;
    }

    [Fact]
    public void The_example_of_the_contract_is_valid()
    {
        var message = Valid(Good());

        Assert.Equal("order-123", message.Id);
        Assert.Equal(["billing"], message.Destinations);
        Assert.Equal("billing", message.Destination);
        Assert.Null(message.Topic);
        Assert.Equal("{\"amount\": 200}"u8.ToArray(), message.Payload);
        Assert.Equal("application/json", message.ContentType);
        Assert.Equal("acme", message.Headers["X-Tenant"]);
        Assert.Equal("fast", message.Contract);
        Assert.Equal("app-callbacks", message.Notify);
        Assert.False(message.NotifyNone);
        Assert.Equal("customer-42", message.OrderingKey);
        Assert.Equal("req-9", message.CorrelationId);
        Assert.Matches("^[0-9A-F]{64}$", message.ContentHash);
    }

    [Theory]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData(@"\ud800")]
    [InlineData(@"a\udc00b")]
    [InlineData(@"\ude00\ud83d")]
    public void An_id_a_URL_path_cannot_carry_is_refused(string escaped)
    {
        // Escaped in the data: xunit would replace a lone surrogate with U+FFFD on its way to the test.
        var id = System.Text.RegularExpressions.Regex.Unescape(escaped);

        var error = Refused(With(r => r.Id = id), 400);

        Assert.Contains("message id", error.Title, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a/b")]
    [InlineData("...")]
    [InlineData("./a")]
    [InlineData("%2F")]
    [InlineData(@"\ud83d\ude00")]
    public void An_id_with_characters_a_path_treats_specially_is_accepted(string escaped)
    {
        var id = System.Text.RegularExpressions.Regex.Unescape(escaped);

        Assert.Equal(id, Valid(With(r => r.Id = id)).Id);
    }

    [Fact]
    public void A_missing_request_body_is_refused()
    {
        Refused(null, 400);
    }

    [Fact]
    public void Unknown_destination_is_refused()
    {
        var error = Refused(With(r => r.Destination = "biling"), 400);

        Assert.Contains("biling", error.Title, StringComparison.Ordinal);
    }

    [Fact]
    public void Destination_names_are_case_sensitive()
    {
        Refused(With(r => r.Destination = "Billing"), 400);
    }

    [Fact]
    public void Unknown_topic_is_refused()
    {
        var error = Refused(With(r => { r.Destination = null; r.Topic = "order.deleted"; }), 400);

        Assert.Contains("order.deleted", error.Title, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_contract_is_refused()
    {
        var error = Refused(With(r => r.Contract = "fastt"), 400);

        Assert.Contains("fastt", error.Title, StringComparison.Ordinal);
    }

    [Fact]
    public void The_built_in_default_contract_is_accepted_without_configuration()
    {
        Assert.Equal("default", Valid(With(r => r.Contract = "default")).Contract);
    }

    [Fact]
    public void Unknown_notify_destination_is_refused()
    {
        var error = Refused(With(r => r.Notify = "nowhere"), 400);

        Assert.Contains("nowhere", error.Title, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("none")]
    [InlineData("")]
    public void Notify_none_asks_for_no_notification(string notify)
    {
        var message = Valid(With(r => r.Notify = notify));

        Assert.True(message.NotifyNone);
        Assert.Null(message.Notify);
    }

    [Fact]
    public void Without_notify_the_destination_configured_one_applies()
    {
        var message = Valid(With(r => r.Notify = null));

        Assert.False(message.NotifyNone);
        Assert.Null(message.Notify);
    }

    [Fact]
    public void Both_destination_and_topic_are_refused()
    {
        Refused(With(r => r.Topic = "order.created"), 400);
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("", "")]
    [InlineData(null, "")]
    public void Neither_destination_nor_topic_is_refused(string? destination, string? topic)
    {
        Refused(With(r => { r.Destination = destination; r.Topic = topic; }), 400);
    }

    [Fact]
    public void Empty_text_payload_is_refused()
    {
        Refused(With(r => r.Payload = ""), 400);
    }

    [Fact]
    public void Empty_base64_payload_is_refused()
    {
        Refused(With(r => { r.Payload = null; r.PayloadBase64 = ""; }), 400);
    }

    [Fact]
    public void No_payload_at_all_is_refused()
    {
        Refused(With(r => r.Payload = null), 400);
    }

    [Fact]
    public void Both_payload_and_payloadBase64_are_refused()
    {
        Refused(With(r => r.PayloadBase64 = "AAEC"), 400);
    }

    [Theory]
    [InlineData("not base64!")]
    [InlineData("AAE")]
    [InlineData("====")]
    public void Invalid_base64_is_refused(string base64)
    {
        var error = Refused(With(r => { r.Payload = null; r.PayloadBase64 = base64; }), 400);

        Assert.Contains("base64", error.Title, StringComparison.Ordinal);
    }

    [Fact]
    public void A_base64_payload_is_decoded_to_its_bytes_and_defaults_to_octet_stream()
    {
        var message = Valid(With(r => { r.Payload = null; r.PayloadBase64 = "AAEC/w=="; r.ContentType = null; }));

        Assert.Equal(new byte[] { 0, 1, 2, 255 }, message.Payload);
        Assert.Equal("application/octet-stream", message.ContentType);
    }

    [Fact]
    public void A_text_payload_defaults_to_utf8_plain_text()
    {
        var message = Valid(With(r => { r.Payload = "héllo"; r.ContentType = null; }));

        Assert.Equal(Encoding.UTF8.GetBytes("héllo"), message.Payload);
        Assert.Equal("text/plain; charset=utf-8", message.ContentType);
    }

    [Theory]
    [InlineData("not a media type")]
    [InlineData("application/json\r\nX-Evil: 1")]
    [InlineData("")]
    public void Invalid_content_type_is_refused(string contentType)
    {
        Refused(With(r => r.ContentType = contentType), 400);
    }

    [Fact]
    public void An_id_of_200_characters_is_accepted()
    {
        Assert.Equal(200, Valid(With(r => r.Id = new string('a', 200))).Id.Length);
    }

    [Fact]
    public void An_id_longer_than_200_characters_is_refused()
    {
        Refused(With(r => r.Id = new string('a', 201)), 400);
    }

    [Theory]
    [InlineData("order\n123")]
    [InlineData("order\r123")]
    [InlineData("order\t123")]
    [InlineData("order\0")]
    [InlineData("\u007f")]
    public void An_id_with_control_characters_is_refused(string id)
    {
        Refused(With(r => r.Id = id), 400);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("   ")]
    public void An_empty_or_whitespace_id_is_refused(string id)
    {
        Refused(With(r => r.Id = id), 400);
    }

    [Fact]
    public void An_id_with_slashes_is_accepted()
    {
        Assert.Equal("tenant/order/1", Valid(With(r => r.Id = "tenant/order/1")).Id);
    }

    [Fact]
    public void A_text_payload_at_the_limit_is_accepted()
    {
        Assert.Equal(1024, Valid(With(r => r.Payload = new string('x', 1024))).Payload.Length);
    }

    [Fact]
    public void A_text_payload_over_the_limit_is_413()
    {
        Refused(With(r => r.Payload = new string('x', 1025)), 413);
    }

    [Fact]
    public void A_text_payload_over_the_limit_only_in_UTF8_bytes_is_413()
    {
        // 600 characters, 1200 bytes: the limit is on bytes, not characters.
        Refused(With(r => r.Payload = new string('é', 600)), 413);
    }

    [Fact]
    public void A_base64_payload_at_the_limit_is_accepted()
    {
        var base64 = Convert.ToBase64String(new byte[1024]);

        Assert.Equal(1024, Valid(With(r => { r.Payload = null; r.PayloadBase64 = base64; })).Payload.Length);
    }

    [Theory]
    [InlineData(1025)]
    [InlineData(1026)]
    [InlineData(1027)]
    [InlineData(100_000)]
    public void A_base64_payload_over_the_limit_is_413(int bytes)
    {
        var base64 = Convert.ToBase64String(new byte[bytes]);

        Refused(With(r => { r.Payload = null; r.PayloadBase64 = base64; }), 413);
    }

    [Fact]
    public void The_default_limit_is_one_MiB()
    {
        var options = Options();
        options.Limits = new LimitOptions();

        Valid(With(r => r.Payload = new string('x', 1024 * 1024)), options);
        Refused(With(r => r.Payload = new string('x', 1024 * 1024 + 1)), 413, options);
    }

    [Theory]
    [InlineData("Host")]
    [InlineData("host")]
    [InlineData("Content-Length")]
    [InlineData("Content-Type")]
    [InlineData("Connection")]
    [InlineData("Transfer-Encoding")]
    [InlineData("Keep-Alive")]
    [InlineData("Upgrade")]
    [InlineData("Idempotency-Key")]
    [InlineData("idempotency-key")]
    [InlineData("X-Relay-Attempt")]
    [InlineData("X-Relay-Correlation-Id")]
    [InlineData("X-Relay-Anything")]
    public void Headers_the_transport_or_Relay_owns_are_refused(string header)
    {
        var error = Refused(With(r => r.Headers = new() { [header] = "1" }), 400);

        Assert.Contains(header, error.Title, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("X Tenant")]
    [InlineData("X-Tenant:")]
    [InlineData("")]
    [InlineData("Ünïcode")]
    [InlineData("X-Tenant\r\n")]
    public void An_invalid_header_name_is_refused(string header)
    {
        Refused(With(r => r.Headers = new() { [header] = "acme" }), 400);
    }

    [Theory]
    [InlineData("acme\r\nX-Evil: 1")]
    [InlineData("acme\n")]
    [InlineData("acme\r")]
    [InlineData("acme\0")]
    public void A_header_value_with_CR_LF_or_other_control_characters_is_refused(string value)
    {
        Refused(With(r => r.Headers = new() { ["X-Tenant"] = value }), 400);
    }

    [Fact]
    public void A_header_value_with_a_tab_is_accepted()
    {
        Assert.Equal("a\tb", Valid(With(r => r.Headers = new() { ["X-Tenant"] = "a\tb" })).Headers["X-Tenant"]);
    }

    [Fact]
    public void The_same_header_twice_in_different_case_is_refused()
    {
        Refused(With(r => r.Headers = new() { ["X-Tenant"] = "a", ["x-tenant"] = "b" }), 400);
    }

    [Fact]
    public void Too_many_headers_are_refused()
    {
        var headers = Enumerable.Range(0, 65).ToDictionary(i => $"X-H{i}", i => "v");

        var error = Refused(With(r => r.Headers = headers), 400);

        Assert.Contains("64", error.Title, StringComparison.Ordinal);
    }

    [Fact]
    public void As_many_headers_as_the_limit_are_accepted()
    {
        var headers = Enumerable.Range(0, 64).ToDictionary(i => $"X-H{i}", i => "v");

        Assert.Equal(64, Valid(With(r => r.Headers = headers)).Headers.Count);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a\nb")]
    public void Invalid_ordering_key_or_correlation_id_is_refused(string value)
    {
        Refused(With(r => r.OrderingKey = value), 400);
        Refused(With(r => r.CorrelationId = value), 400);
    }

    [Fact]
    public void An_id_is_generated_when_absent()
    {
        var calls = 0;
        var ok = MessageValidator.TryValidate(With(r => r.Id = null), Options(), () => { calls++; return "made-by-router"; }, out var message, out _);

        Assert.True(ok);
        Assert.Equal("made-by-router", message!.Id);
        Assert.Equal(1, calls);
    }

    [Fact]
    public void A_given_id_does_not_call_the_generator()
    {
        var ok = MessageValidator.TryValidate(Good(), Options(), () => throw new InvalidOperationException("not expected"), out var message, out _);

        Assert.True(ok);
        Assert.Equal("order-123", message!.Id);
    }

    [Fact]
    public void A_topic_fans_out_to_each_subscriber_once_in_configured_order()
    {
        var message = Valid(With(r => { r.Destination = null; r.Topic = "order.created"; }));

        Assert.Equal(["billing", "shipping"], message.Destinations);
        Assert.Equal("order.created", message.Topic);
        Assert.Null(message.Destination);
    }

    private static RelayOptions Filtered()
    {
        var options = Options();
        options.Topics["orders"] = new TopicOptions
        {
            Subscriptions =
            [
                new() { Destination = "billing", Filter = "amount > 100" },
                new() { Destination = "shipping", Filter = "X-Region = 'eu'" },
            ],
        };
        return options;
    }

    [Theory]
    [InlineData("{\"amount\": 200}", "eu", new[] { "billing", "shipping" })]
    [InlineData("{\"amount\": 200}", "us", new[] { "billing" })]
    [InlineData("{\"amount\": 50}", "eu", new[] { "shipping" })]
    [InlineData("{\"amount\": 50}", "us", new string[0])]
    public void A_topic_goes_to_the_subscribers_whose_filter_the_message_matches(string payload, string region, string[] expected)
    {
        var options = Filtered();
        var message = Valid(With(r => { r.Destination = null; r.Topic = "orders"; r.Payload = payload; r.Headers = new() { ["X-Region"] = region }; }), options);

        Assert.Equal(expected, message.Destinations);
        Assert.Equal("orders", message.Topic);
    }

    [Fact]
    public void A_header_kept_by_a_subscriber_that_does_not_take_the_message_does_not_refuse_it()
    {
        var options = Filtered();
        options.Destinations["shipping"].Headers["X-Api-Key"] = "secret";
        // shipping keeps X-Api-Key; the message is not for shipping (X-Region is us), so billing alone takes it.
        var message = Valid(With(r =>
        {
            r.Destination = null; r.Topic = "orders"; r.Payload = "{\"amount\": 200}";
            r.Headers = new() { ["X-Region"] = "us", ["X-Api-Key"] = "the-sender-s" };
        }), options);
        Assert.Equal(["billing"], message.Destinations);

        // For eu, shipping takes it too, and refuses the header: the whole message is refused.
        Refused(With(r =>
        {
            r.Destination = null; r.Topic = "orders"; r.Payload = "{\"amount\": 200}";
            r.Headers = new() { ["X-Region"] = "eu", ["X-Api-Key"] = "the-sender-s" };
        }), 400, options);
    }

    [Fact]
    public void The_same_content_gives_the_same_hash()
    {
        Assert.Equal(Valid(Good()).ContentHash, Valid(Good()).ContentHash);
    }

    [Fact]
    public void The_same_bytes_as_text_or_as_base64_are_the_same_content()
    {
        var asBytes = With(r => { r.Payload = null; r.PayloadBase64 = Convert.ToBase64String("{\"amount\": 200}"u8.ToArray()); });

        Assert.Equal(Valid(Good()).ContentHash, Valid(asBytes).ContentHash);
    }

    [Fact]
    public void The_id_is_not_part_of_the_content_hash()
    {
        Assert.Equal(Valid(Good()).ContentHash, Valid(With(r => r.Id = "other")).ContentHash);
    }

    public static TheoryData<string, Action<SendRequest>> ContentChanges => new()
    {
        { "payload", r => r.Payload = "{\"amount\": 201}" },
        { "content type", r => r.ContentType = "text/plain" },
        { "header value", r => r.Headers = new() { ["X-Tenant"] = "other" } },
        { "header name", r => r.Headers = new() { ["X-Tenant2"] = "acme" } },
        { "extra header", r => r.Headers = new() { ["X-Tenant"] = "acme", ["X-More"] = "1" } },
        { "no headers", r => r.Headers = null },
        { "destination", r => r.Destination = "shipping" },
        { "topic", r => { r.Destination = null; r.Topic = "order.created"; } },
        { "contract", r => r.Contract = "slow" },
        { "no contract", r => r.Contract = null },
        { "notify", r => r.Notify = "billing" },
        { "ordering key", r => r.OrderingKey = "customer-43" },
        { "correlation id", r => r.CorrelationId = "req-10" },
        { "no correlation id", r => r.CorrelationId = null },
    };

    [Theory]
    [MemberData(nameof(ContentChanges))]
    public void Any_changed_field_changes_the_hash(string field, Action<SendRequest> change)
    {
        Assert.NotEqual(Valid(Good()).ContentHash, Valid(With(change)).ContentHash);
        Assert.False(string.IsNullOrEmpty(field));
    }

    [Fact]
    public void Header_name_case_does_not_change_the_hash()
    {
        var upper = Valid(With(r => r.Headers = new() { ["X-TENANT"] = "acme", ["X-B"] = "1" }));
        var lower = Valid(With(r => r.Headers = new() { ["x-b"] = "1", ["x-tenant"] = "acme" }));

        Assert.Equal(upper.ContentHash, lower.ContentHash);
    }

    [Fact]
    public void Header_order_does_not_change_the_hash()
    {
        var first = Valid(With(r => r.Headers = new() { ["X-A"] = "1", ["X-B"] = "2" }));
        var second = Valid(With(r => r.Headers = new() { ["X-B"] = "2", ["X-A"] = "1" }));

        Assert.Equal(first.ContentHash, second.ContentHash);
    }

    [Fact]
    public void Moving_text_between_fields_changes_the_hash()
    {
        var first = Valid(With(r => { r.OrderingKey = "ab"; r.CorrelationId = "c"; }));
        var second = Valid(With(r => { r.OrderingKey = "a"; r.CorrelationId = "bc"; }));

        Assert.NotEqual(first.ContentHash, second.ContentHash);
    }
}
