using System.Xml.Linq;
using Relay.Adapters.Ebms;
using Relay.Adapters.Tests.Destinations;

namespace Relay.Adapters.Tests.Ebms;

/// <summary>The envelope against the normative OASIS schemas, and the packaging as MimeKit reads it back.</summary>
public sealed class EbmsEnvelopeTests
{
    private static readonly XNamespace Eb = EbmsNames.Eb;
    private static readonly XNamespace Soap = EbmsNames.Soap;

    internal static EbmsHeader Header(Func<EbmsHeader, EbmsHeader>? change = null)
    {
        var header = new EbmsHeader
        {
            FromPartyId = "123456789", FromPartyType = "urn:oasis:names:tc:ebxml-cppa:partyid-type:duns",
            ToPartyId = "urn:example:partner", CpaId = "cpa-2026-1", ConversationId = "order-123",
            Service = "urn:example:orders", Action = "NewOrder", MessageId = "0123456789abcdef0123456789abcdef@relay",
            Timestamp = new DateTimeOffset(2026, 12, 7, 2, 30, 0, TimeSpan.Zero), TimeToLive = new DateTimeOffset(2026, 12, 7, 3, 30, 0, TimeSpan.Zero),
            DuplicateElimination = true, AckRequested = true, SyncReply = true, PayloadContentIds = ["payload-1@relay"],
        };
        return change is null ? header : change(header);
    }

    [Fact]
    public void The_envelope_with_every_element_is_valid_against_msg_header_2_0_and_the_SOAP_1_1_schema()
    {
        Assert.Empty(EbmsSchemas.Validate(EbmsEnvelope.Build(Header())));
    }

    [Fact]
    public void The_envelope_with_only_the_required_elements_is_valid_too()
    {
        var minimal = Header(h => h with
        {
            FromPartyType = null, FromPartyId = "urn:example:relay", TimeToLive = null, DuplicateElimination = false,
            AckRequested = false, SyncReply = false, ServiceType = "string",
        });

        Assert.Empty(EbmsSchemas.Validate(EbmsEnvelope.Build(minimal)));
    }

    [Fact]
    public void The_schemas_refuse_an_envelope_that_breaks_them()
    {
        // The check itself can fail: a MessageHeader without mustUnderstand, and one without CPAId, are refused.
        var envelope = XDocument.Parse(Encoding.UTF8.GetString(EbmsEnvelope.Build(Header())));
        var messageHeader = envelope.Root!.Element(Soap + "Header")!.Element(Eb + "MessageHeader")!;
        messageHeader.Attribute(Soap + "mustUnderstand")!.Remove();
        Assert.Contains(EbmsSchemas.Validate(Encoding.UTF8.GetBytes(envelope.ToString())), p => p.Contains("mustUnderstand", StringComparison.Ordinal));

        messageHeader.Element(Eb + "CPAId")!.Remove();
        Assert.Contains(EbmsSchemas.Validate(Encoding.UTF8.GetBytes(envelope.ToString())), p => p.Contains("ConversationId", StringComparison.Ordinal));
    }

    [Fact]
    public void The_header_carries_what_ebMS_asks_for()
    {
        var root = XDocument.Parse(Encoding.UTF8.GetString(EbmsEnvelope.Build(Header()))).Root!;
        var header = root.Element(Soap + "Header")!;
        var messageHeader = header.Element(Eb + "MessageHeader")!;
        Assert.Equal("1", (string?)messageHeader.Attribute(Soap + "mustUnderstand"));
        Assert.Equal("2.0", (string?)messageHeader.Attribute(Eb + "version"));
        Assert.Equal("urn:oasis:names:tc:ebxml-cppa:partyid-type:duns", (string?)messageHeader.Element(Eb + "From")!.Element(Eb + "PartyId")!.Attribute(Eb + "type"));
        Assert.Equal("2026-12-07T02:30:00.000Z", (string?)messageHeader.Element(Eb + "MessageData")!.Element(Eb + "Timestamp"));
        Assert.Equal("2026-12-07T03:30:00.000Z", (string?)messageHeader.Element(Eb + "MessageData")!.Element(Eb + "TimeToLive"));
        Assert.NotNull(messageHeader.Element(Eb + "DuplicateElimination"));
        Assert.Equal(EbmsNames.ToPartyMshActor, (string?)header.Element(Eb + "AckRequested")!.Attribute(Soap + "actor"));
        Assert.Equal("false", (string?)header.Element(Eb + "AckRequested")!.Attribute(Eb + "signed"));
        Assert.Equal(EbmsNames.NextActor, (string?)header.Element(Eb + "SyncReply")!.Attribute(Soap + "actor"));
        var reference = Assert.Single(root.Element(Soap + "Body")!.Element(Eb + "Manifest")!.Elements(Eb + "Reference"));
        Assert.Equal("cid:payload-1@relay", (string?)reference.Attribute(XNamespace.Get(EbmsNames.XLink) + "href"));
    }

    [Fact]
    public void Values_are_escaped_as_XML_text()
    {
        var envelope = EbmsEnvelope.Build(Header(h => h with { Action = "<New & \"Order\">", ConversationId = "a]]>b" }));

        Assert.Empty(EbmsSchemas.Validate(envelope));
        var root = XDocument.Parse(Encoding.UTF8.GetString(envelope)).Root!;
        Assert.Equal("<New & \"Order\">", (string?)root.Descendants(Eb + "Action").Single());
    }

    [Fact]
    public void The_package_is_multipart_related_with_the_envelope_first_and_the_payload_bytes_unchanged()
    {
        byte[] payload = [0x00, 0xFF, 0x0D, 0x0A, 0x2D, 0x2D, 0x41];
        var envelope = EbmsEnvelope.Build(Header());

        var package = EbmsPackage.Build(envelope, "header@relay", payload, "payload-1@relay", "application/octet-stream");

        Assert.StartsWith("multipart/related;", package.ContentType, StringComparison.Ordinal);
        Assert.Contains("type=\"text/xml\"", package.ContentType, StringComparison.Ordinal);
        Assert.Contains("start=\"<header@relay>\"", package.ContentType, StringComparison.Ordinal);
        Assert.Equal(envelope, EbmsPackage.ReadEnvelope(package.Body, package.ContentType));
        var related = (MimeKit.Multipart)MimeKit.MimeEntity.Load(MimeKit.ContentType.Parse(package.ContentType), new MemoryStream(package.Body));
        var part = (MimeKit.MimePart)related[1];
        Assert.Equal("payload-1@relay", part.ContentId);
        using var decoded = new MemoryStream();
        part.Content!.DecodeTo(decoded);
        Assert.Equal(payload, decoded.ToArray());
    }
}

public sealed class EbmsMessageIdTests
{
    private static readonly byte[] Payload = Encoding.UTF8.GetBytes("<Order/>");

    [Fact]
    public void The_same_delivery_gets_the_same_MessageId_every_time()
    {
        var id = EbmsMessageId.For("order-1", "partner", Payload);

        Assert.Equal(id, EbmsMessageId.For("order-1", "partner", Encoding.UTF8.GetBytes("<Order/>")));
        Assert.Matches("^order-1\\.partner\\.[0-9a-f]{16}@relay$", id);
    }

    [Fact]
    public void Another_payload_message_or_destination_gets_another()
    {
        var id = EbmsMessageId.For("order-1", "partner", Payload);

        Assert.NotEqual(id, EbmsMessageId.For("order-1", "partner", Encoding.UTF8.GetBytes("<Order edited=\"1\"/>")));
        Assert.NotEqual(id, EbmsMessageId.For("order-2", "partner", Payload));
        Assert.NotEqual(id, EbmsMessageId.For("order-1", "partner-b", Payload));
        // Length-prefixed fields: moving text from one to the other changes it.
        Assert.NotEqual(EbmsMessageId.For("ab", "c", Payload), EbmsMessageId.For("a", "bc", Payload));
    }
}

public sealed class EbmsMessageIdReadingTests
{
    [Theory]
    [InlineData("order-1", "partner")]
    [InlineData("a.b/c d%41", "partner.eu")]
    [InlineData("Dossier « entrée » 😀", "ünïcode")]
    [InlineData("@relay", "x@y")]
    public void A_MessageId_names_its_message_and_destination(string messageId, string destination)
    {
        var id = EbmsMessageId.For(messageId, destination, "payload"u8);

        Assert.True(EbmsMessageId.TryRead(id, out var readId, out var readDestination), id);
        Assert.Equal((messageId, destination), (readId, readDestination));
        Assert.Matches("^[A-Za-z0-9_%-]+\\.[A-Za-z0-9_%-]+\\.[0-9a-f]{16}@relay$", id);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("0123456789abcdef0123456789abcdef@relay")]
    [InlineData("order-1.partner.0123456789abcdef@partner")]
    [InlineData("order-1.partner.0123456789ABCDEF@relay")]
    [InlineData("order.1.partner.0123456789abcdef@relay")]
    [InlineData("order-1..0123456789abcdef@relay")]
    [InlineData("order%2.partner.0123456789abcdef@relay")]
    [InlineData("order%FF.partner.0123456789abcdef@relay")]
    [InlineData("order 1.partner.0123456789abcdef@relay")]
    public void Any_other_text_names_none(string? text)
    {
        Assert.False(EbmsMessageId.TryRead(text, out _, out _));
    }
}

public sealed class EbmsReplyClassifierTests
{
    private const string Ours = "ours@relay";

    [Theory]
    [InlineData("ValueNotRecognized")]
    [InlineData("NotSupported")]
    [InlineData("Inconsistent")]
    [InlineData("OtherXml")]
    [InlineData("TimeToLiveExpired")]
    [InlineData("SecurityFailure")]
    [InlineData("MimeProblem")]
    [InlineData("Unknown")]
    [InlineData("urn:partner:QuotaExceeded")]
    public void An_error_of_severity_Error_is_final(string code)
    {
        Assert.Equal(AttemptOutcome.NonRetryableFailure, EbmsReplyClassifier.Classify(new EbmsError(code, "Error", null, null)));
    }

    [Theory]
    [InlineData("Error")]
    [InlineData("Warning")]
    public void A_DeliveryFailure_is_retryable(string severity)
    {
        Assert.Equal(AttemptOutcome.RetryableFailure, EbmsReplyClassifier.Classify(new EbmsError("DeliveryFailure", severity, null, null)));
    }

    [Theory]
    [InlineData("Inconsistent")]
    [InlineData("TimeToLiveExpired")]
    public void A_warning_stands_in_no_way(string code)
    {
        Assert.Null(EbmsReplyClassifier.Classify(new EbmsError(code, "Warning", null, null)));
    }

    [Fact]
    public void A_final_error_beside_a_DeliveryFailure_makes_the_list_final()
    {
        Assert.Equal(AttemptOutcome.NonRetryableFailure, EbmsReplyClassifier.Classify(
            [new EbmsError("DeliveryFailure", "Error", null, null), new EbmsError("SecurityFailure", "Error", null, null)]));
        Assert.Equal(AttemptOutcome.RetryableFailure, EbmsReplyClassifier.Classify([new EbmsError("DeliveryFailure", "Error", null, null)]));
    }

    [Theory]
    [InlineData("Server", AttemptOutcome.RetryableFailure)]
    [InlineData("Client", AttemptOutcome.NonRetryableFailure)]
    [InlineData("MustUnderstand", AttemptOutcome.NonRetryableFailure)]
    [InlineData("VersionMismatch", AttemptOutcome.NonRetryableFailure)]
    public void A_SOAP_fault_is_classified_by_its_code(string code, AttemptOutcome expected)
    {
        Assert.Equal(expected, EbmsReplyClassifier.ClassifyFault(code));
    }

    [Fact]
    public void An_acknowledgment_of_the_message_delivers_and_one_of_another_does_not()
    {
        Assert.Equal((AttemptOutcome.Success, null), EbmsReplyClassifier.Judge(Read(EbmsReplies.Acknowledgment(Ours)), Ours));

        var other = EbmsReplyClassifier.Judge(Read(EbmsReplies.Acknowledgment("theirs@relay")), Ours);
        Assert.Equal(AttemptOutcome.RetryableFailure, other!.Value.Outcome);
        Assert.Contains("theirs@relay", other.Value.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void An_error_list_says_its_codes_and_descriptions()
    {
        var judged = EbmsReplyClassifier.Judge(Read(EbmsReplies.ErrorList(Ours, ("TimeToLiveExpired", "Error", "Too late"), ("Inconsistent", "Warning", "odd"))), Ours);

        Assert.Equal((AttemptOutcome.NonRetryableFailure, "ebXML error TimeToLiveExpired (Error): Too late"), judged);
    }

    private static EbmsSignal Read(string envelope) => EbmsSignalReader.Read(Encoding.UTF8.GetBytes(envelope));
}

public sealed class EbmsSignalReaderTests
{
    [Fact]
    public void The_replies_the_tests_send_are_valid_ebMS()
    {
        Assert.Empty(EbmsSchemas.Validate(Encoding.UTF8.GetBytes(EbmsReplies.Acknowledgment("m@relay"))));
        Assert.Empty(EbmsSchemas.Validate(Encoding.UTF8.GetBytes(EbmsReplies.ErrorList("m@relay", ("DeliveryFailure", "Error", "down")))));
    }

    [Fact]
    public void An_acknowledgment_and_its_header_are_read()
    {
        var signal = EbmsSignalReader.Read(Encoding.UTF8.GetBytes(EbmsReplies.Acknowledgment("m@relay")));

        Assert.Equal("m@relay", signal.AcknowledgedMessageId);
        Assert.Equal("m@relay", signal.RefToMessageId);
        Assert.Equal("Acknowledgment", signal.Action);
        Assert.Equal("urn:test:partner", signal.FromPartyId);
        Assert.Empty(signal.Errors);
    }

    [Fact]
    public void A_DTD_is_refused_and_no_entity_is_expanded()
    {
        var bomb = "<?xml version=\"1.0\"?><!DOCTYPE e [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]>"
            + $"<SOAP:Envelope xmlns:SOAP=\"{EbmsNames.Soap}\"><SOAP:Body>&b;</SOAP:Body></SOAP:Envelope>";

        var ex = Assert.Throws<EbmsFormatException>(() => EbmsSignalReader.Read(Encoding.UTF8.GetBytes(bomb)));
        Assert.Contains("DTD", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_envelope_beyond_the_size_bound_is_refused()
    {
        var big = $"<SOAP:Envelope xmlns:SOAP=\"{EbmsNames.Soap}\"><SOAP:Body><x>{new string('a', EbmsSignalReader.MaxEnvelopeCharacters)}</x></SOAP:Body></SOAP:Envelope>";

        Assert.Throws<EbmsFormatException>(() => EbmsSignalReader.Read(Encoding.UTF8.GetBytes(big)));
    }

    [Theory]
    [InlineData("not xml")]
    [InlineData("<Envelope/>")]
    public void What_is_not_a_SOAP_1_1_envelope_is_refused(string text)
    {
        Assert.Throws<EbmsFormatException>(() => EbmsSignalReader.Read(Encoding.UTF8.GetBytes(text)));
    }

    [Fact]
    public void A_multipart_without_the_part_its_start_names_is_refused()
    {
        var package = EbmsPackage.Build(Encoding.UTF8.GetBytes(EbmsReplies.Acknowledgment("m@relay")), "header@p", "x"u8.ToArray(), "p@p", "text/plain");

        Assert.Throws<EbmsFormatException>(() => EbmsPackage.ReadEnvelope(package.Body, package.ContentType.Replace("header@p", "other@p", StringComparison.Ordinal)));
    }
}

/// <summary>An ebXML destination's settings, checked at start-up: a receiving MSH would refuse every message otherwise.</summary>
public sealed class EbmsDestinationValidatorTests
{
    internal static EbmsDestinationOptions Destination(Action<EbmsSettings>? change = null)
    {
        var destination = new EbmsDestinationOptions
        {
            Protocol = "Ebms2",
            Address = "http://127.0.0.1:9000/msh",
            Ebms = new EbmsSettings
            {
                FromPartyId = "urn:example:relay", ToPartyId = "123456789", ToPartyType = "urn:oasis:names:tc:ebxml-cppa:partyid-type:duns",
                CpaId = "cpa-1", Service = "urn:example:orders", Action = "NewOrder",
            },
        };
        change?.Invoke(destination.Ebms);
        return destination;
    }

    [Fact]
    public void A_complete_destination_is_accepted()
    {
        Assert.Empty(DestinationSettings.Validate(Destination()));
    }

    [Theory]
    [InlineData("FromPartyId")]
    [InlineData("ToPartyId")]
    [InlineData("CpaId")]
    [InlineData("Service")]
    [InlineData("Action")]
    public void A_missing_required_value_is_named_with_its_key(string name)
    {
        var destination = Destination();
        typeof(EbmsSettings).GetProperty(name)!.SetValue(destination.Ebms, null);

        Assert.Equal($"Relay:Destinations:target:Ebms:{name} is required for an Ebms2 destination.", DestinationSettings.OnlyError(destination));
    }

    [Fact]
    public void A_party_or_service_without_a_type_must_be_a_URI()
    {
        var error = DestinationSettings.OnlyError(Destination(e => e.ToPartyType = null));

        Assert.StartsWith("Relay:Destinations:target:Ebms:ToPartyId is '123456789', which is not a URI", error, StringComparison.Ordinal);
        Assert.StartsWith("Relay:Destinations:target:Ebms:Service is 'Orders', which is not a URI",
            DestinationSettings.OnlyError(Destination(e => e.Service = "Orders")), StringComparison.Ordinal);
        Assert.Empty(DestinationSettings.Validate(Destination(e => { e.Service = "Orders"; e.ServiceType = "string"; })));
    }

    [Fact]
    public void Values_must_be_one_line_and_a_time_to_live_positive()
    {
        Assert.Equal("Relay:Destinations:target:Ebms:Action must be printable text on one line.", DestinationSettings.OnlyError(Destination(e => e.Action = "New\nOrder")));
        Assert.Equal("Relay:Destinations:target:Ebms:CpaId is longer than 256 characters.", DestinationSettings.OnlyError(Destination(e => e.CpaId = new string('c', 257))));
        Assert.StartsWith("Relay:Destinations:target:Ebms:TimeToLive is -00:01:00", DestinationSettings.OnlyError(Destination(e => e.TimeToLive = TimeSpan.FromMinutes(-1))), StringComparison.Ordinal);
    }

    [Fact]
    public void Asynchronous_acknowledgments_need_a_partner_key_that_is_never_printed()
    {
        Assert.StartsWith("Relay:Destinations:target:Ebms:PartnerKey is required when Relay:Destinations:target:Ebms:SyncReply is false",
            DestinationSettings.OnlyError(Destination(e => e.SyncReply = false)), StringComparison.Ordinal);
        Assert.Empty(DestinationSettings.Validate(Destination(e => { e.SyncReply = false; e.PartnerKey = "a-long-enough-secret"; })));
        Assert.Empty(DestinationSettings.Validate(Destination(e => { e.SyncReply = false; e.AckRequested = false; })));

        var error = DestinationSettings.OnlyError(Destination(e => { e.SyncReply = false; e.PartnerKey = "short-secret"; }));
        Assert.Equal("Relay:Destinations:target:Ebms:PartnerKey must be at least 16 characters without spaces or control characters (a random secret).", error);
        Assert.DoesNotContain("short-secret", error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_settings_bind_from_configuration_under_Ebms()
    {
        var problems = DestinationSettings.Problems(
            ("Relay:Destinations:partner:Protocol", "Ebms2"), ("Relay:Destinations:partner:Address", "https://msh.example.com/ebms"),
            ("Relay:Destinations:partner:Ebms:FromPartyId", "urn:example:relay"), ("Relay:Destinations:partner:Ebms:ToPartyId", "urn:example:partner"),
            ("Relay:Destinations:partner:Ebms:CpaId", "cpa-1"), ("Relay:Destinations:partner:Ebms:Service", "urn:example:orders"),
            ("Relay:Destinations:partner:Ebms:TimeToLive", "00:30:00"));

        Assert.Equal(["Relay:Destinations:partner:Ebms:Action is required for an Ebms2 destination."], problems);
        var (destinations, _) = DestinationSettings.Bind(("Relay:Destinations:partner:Protocol", "Ebms2"), ("Relay:Destinations:partner:Ebms:TimeToLive", "00:30:00"),
            ("Relay:Destinations:partner:Ebms:SyncReply", "false"), ("Relay:Destinations:partner:Ebms:AckRequested", "false"));
        var ebms = Assert.IsType<EbmsDestinationOptions>(destinations["partner"]).Ebms;
        Assert.Equal(TimeSpan.FromMinutes(30), ebms.TimeToLive);
        Assert.False(ebms.SyncReply);
        Assert.True(ebms.DuplicateElimination);
    }
}
