using Relay.Adapters.Ftp;
using Relay.Adapters.Tests.Destinations;

namespace Relay.Adapters.Tests.Ftp;

/// <summary>An FTP destination's own settings, checked by its adapter's validator at start-up (docs/ADAPTERS.md).</summary>
public sealed class FtpDestinationValidatorTests
{
    private static FtpDestinationOptions Ftp() => new()
    {
        Protocol = "Ftp", Address = "ftp://files.example.com:21/inbox/", Username = "relay", Password = "pw-Secret1",
        FileName = "order-{id}.json", UseTls = true,
    };

    [Fact]
    public void An_Ftp_destination_with_its_documented_settings_is_valid_and_so_is_an_anonymous_one()
    {
        Assert.Empty(DestinationSettings.Validate(Ftp()));
        Assert.Empty(DestinationSettings.Validate(new FtpDestinationOptions { Protocol = "Ftp", Address = "ftp://files.example.com/" }));
    }

    [Theory]
    [InlineData("fixed.dat")]
    [InlineData("out/{id}.dat")]
    [InlineData(@"out\{id}.dat")]
    [InlineData("")]
    public void A_FileName_without_the_id_or_with_a_folder_is_refused(string fileName)
    {
        var destination = Ftp();
        destination.FileName = fileName;

        Assert.StartsWith($"Relay:Destinations:target:FileName is '{fileName}'; it must contain {{id}}", DestinationSettings.OnlyError(destination), StringComparison.Ordinal);
    }

    [Fact]
    public void A_Password_without_a_Username_is_refused_and_not_shown()
    {
        var destination = Ftp();
        destination.Username = null;

        var error = DestinationSettings.OnlyError(destination);

        Assert.Equal("Relay:Destinations:target:Password is set but Relay:Destinations:target:Username is not; give both, or neither to log in as anonymous.", error);
        Assert.DoesNotContain("pw-Secret1", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Credentials_in_the_address_are_refused_and_not_shown()
    {
        var destination = Ftp();
        destination.Address = "ftp://relay:pw-Secret1@files.example.com/inbox/";

        var error = DestinationSettings.OnlyError(destination);

        Assert.StartsWith("Relay:Destinations:target:Address carries a user name or password; give them as Relay:Destinations:target:Username", error, StringComparison.Ordinal);
        Assert.DoesNotContain("pw-Secret1", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_control_character_in_the_folder_is_refused()
    {
        var destination = Ftp();
        destination.Address = "ftp://files.example.com/in%0D%0ADELE%20x/";

        Assert.Equal("Relay:Destinations:target:Address has control characters in its folder.", DestinationSettings.OnlyError(destination));
    }

    [Fact]
    public void A_bad_FileName_in_the_configuration_names_the_full_key()
    {
        var problems = DestinationSettings.Problems(
            ("Relay:Destinations:files:Protocol", "Ftp"), ("Relay:Destinations:files:Address", "ftp://127.0.0.1/in/"),
            ("Relay:Destinations:files:FileName", "fixed.dat"));

        Assert.StartsWith("Relay:Destinations:files:FileName is 'fixed.dat'", Assert.Single(problems), StringComparison.Ordinal);
    }

    [Fact]
    public void A_Password_reference_to_a_missing_file_or_an_unset_variable_names_the_key_and_never_a_secret() =>
        DestinationSettings.PasswordReferencesAreChecked(Ftp(), "RELAY_TEST_UNSET_FTP_PASSWORD_3D");
}
