namespace Relay.Core.Tests.Messages;

/// <summary>
/// A protocol's fields of a send request (<c>ebms</c>) are kept with the content under reserved names: hashed with it,
/// never forwarded as a header by any adapter, refused whole when the protocol's rule says so.
/// </summary>
public class ProtocolFieldsTests
{
    private static RelayOptions Options() => new()
    {
        Destinations = { ["partner"] = new DestinationOptions { Protocol = "Ebms2", Address = "http://127.0.0.1:9000/msh" } },
    };

    private static SendRequest Message(string? action) => new()
    {
        Id = "m-1", Destination = "partner", Payload = "<x/>", Ebms = action is null ? null : new EbmsFields { Action = action },
    };

    private static RelayError? Rule(SendRequest request, IReadOnlyList<KeyValuePair<string, DestinationOptions>> destinations, IDictionary<string, string> stored)
    {
        if (request.Ebms?.Action is "bad")
        {
            return RelayError.BadRequest("'ebms.action' is bad.");
        }

        if (request.Ebms?.Action is { } action)
        {
            stored[ProtocolFields.Prefix + "Ebms-Action"] = action + "@" + destinations.Single().Key;
        }

        return null;
    }

    private static ValidatedMessage Valid(SendRequest request)
    {
        Assert.True(MessageValidator.TryValidate(request, Options(), () => "generated", null, Rule, out var message, out var error), error?.Title);
        return message!;
    }

    [Fact]
    public void The_fields_the_rule_gives_are_kept_with_the_headers_and_change_the_content_hash()
    {
        var withAction = Valid(Message("NewOrder"));

        Assert.Equal("NewOrder@partner", withAction.Headers["X-Relay-Field-Ebms-Action"]);
        Assert.NotEqual(Valid(Message(null)).ContentHash, withAction.ContentHash);
        Assert.NotEqual(Valid(Message("Cancel")).ContentHash, withAction.ContentHash);
        Assert.Equal(Valid(Message("NewOrder")).ContentHash, withAction.ContentHash);
    }

    [Fact]
    public void The_rule_s_refusal_refuses_the_message()
    {
        Assert.False(MessageValidator.TryValidate(Message("bad"), Options(), () => "generated", null, Rule, out var message, out var error));
        Assert.Null(message);
        Assert.Equal("'ebms.action' is bad.", error!.Title);
    }

    [Fact]
    public void Without_a_rule_fields_are_refused_rather_than_dropped()
    {
        Assert.False(MessageValidator.TryValidate(Message("NewOrder"), Options(), () => "generated", out _, out var error));
        Assert.Equal(400, error!.StatusCode);
    }

    [Theory]
    [InlineData("X-Relay-Field-Ebms-Action")]
    [InlineData("x-relay-field-anything")]
    public void No_adapter_forwards_a_stored_field_as_a_header(string name)
    {
        Assert.Equal("Relay sets it itself", DestinationHeaders.Refusal(new DestinationOptions { Address = "http://127.0.0.1/" }, name));
    }
}
