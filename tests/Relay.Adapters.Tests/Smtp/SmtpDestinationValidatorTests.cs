using Relay.Adapters.Smtp;
using Relay.Adapters.Tests.Destinations;

namespace Relay.Adapters.Tests.Smtp;

/// <summary>An SMTP destination's own settings, checked by its adapter's validator at start-up (docs/ADAPTERS.md).</summary>
public sealed class SmtpDestinationValidatorTests
{
    private static SmtpDestinationOptions Smtp() => new()
    {
        Protocol = "Smtp", Address = "smtp://mail.example.com:587", From = "Relay <relay@example.com>",
        To = ["ops@example.com", "audit@example.com"], Subject = "Order {id}", Username = "relay", Password = "pw-Secret1", UseTls = true,
    };

    [Fact]
    public void An_Smtp_destination_with_its_documented_settings_is_valid()
    {
        Assert.Empty(DestinationSettings.Validate(Smtp()));
    }

    [Fact]
    public void From_is_required()
    {
        var destination = Smtp();
        destination.From = null;

        Assert.Equal("Relay:Destinations:target:From is required for an Smtp destination (the sender's address, e.g. relay@example.com).", DestinationSettings.OnlyError(destination));
    }

    [Fact]
    public void At_least_one_To_is_required()
    {
        var destination = Smtp();
        destination.To.Clear();

        Assert.Equal("Relay:Destinations:target:To is empty; an Smtp destination needs at least one recipient (Relay:Destinations:target:To:0).", DestinationSettings.OnlyError(destination));
    }

    [Fact]
    public void A_From_or_To_that_is_no_mail_address_is_named()
    {
        var destination = Smtp();
        destination.From = "relay";
        destination.To[1] = "audit at example.com";

        Assert.Equal(
            [
                "Relay:Destinations:target:From is 'relay', which is not a mail address.",
                "Relay:Destinations:target:To:1 is 'audit at example.com', which is not a mail address.",
            ],
            DestinationSettings.Validate(destination));
    }

    [Fact]
    public void The_Subject_must_be_one_line()
    {
        var destination = Smtp();
        destination.Subject = "Order {id}\r\nBcc: someone@example.com";

        Assert.Equal("Relay:Destinations:target:Subject must be one line of text (default {id}).", DestinationSettings.OnlyError(destination));
    }

    [Fact]
    public void Username_and_Password_go_together()
    {
        var destination = Smtp();
        destination.Password = null;

        Assert.Equal("Relay:Destinations:target:Username and Relay:Destinations:target:Password go together: give both to authenticate, or neither.", DestinationSettings.OnlyError(destination));
    }

    [Fact]
    public void Credentials_in_the_address_are_refused_and_not_shown()
    {
        var destination = Smtp();
        destination.Address = "smtp://relay:pw-Secret1@mail.example.com:25";

        var error = DestinationSettings.OnlyError(destination);

        Assert.StartsWith("Relay:Destinations:target:Address carries a user name or password", error, StringComparison.Ordinal);
        Assert.DoesNotContain("pw-Secret1", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_To_in_the_configuration_names_the_full_key()
    {
        var problems = DestinationSettings.Problems(
            ("Relay:Destinations:mail:Protocol", "Smtp"), ("Relay:Destinations:mail:Address", "smtp://127.0.0.1:25"),
            ("Relay:Destinations:mail:From", "relay@example.com"), ("Relay:Destinations:mail:To:0", "ops@example.com"),
            ("Relay:Destinations:mail:To:1", "nobody"));

        Assert.Equal(["Relay:Destinations:mail:To:1 is 'nobody', which is not a mail address."], problems);
    }

    [Fact]
    public void A_Password_reference_to_a_missing_file_or_an_unset_variable_names_the_key_and_never_a_secret() =>
        DestinationSettings.PasswordReferencesAreChecked(Smtp(), "RELAY_TEST_UNSET_SMTP_PASSWORD_3D");
}
