using Relay.Adapters.Tests.Destinations;

namespace Relay.Adapters.Tests.Http;

/// <summary>
/// The credentials of a destination speaking HTTP (<c>Auth</c>, <c>ClientCertificate</c>, <c>TrustedCaPath</c>, secret
/// references), bound from configuration keys and checked at start-up: each problem names its key, never a secret.
/// </summary>
public sealed class HttpAuthValidatorTests
{
    private static IReadOnlyList<string> Problems(string protocol, params (string Key, string Value)[] auth) =>
        DestinationSettings.Problems([("Relay:Destinations:partner:Protocol", protocol), ("Relay:Destinations:partner:Address", "https://127.0.0.1:9443/in"),
            .. auth.Select(a => ("Relay:Destinations:partner:" + a.Key, a.Value))]);

    [Theory]
    [InlineData("Http")]
    [InlineData("Soap")]
    public void Complete_settings_of_each_kind_are_accepted(string protocol)
    {
        Assert.Empty(Problems(protocol, ("Auth:Kind", "Basic"), ("Auth:Username", "u"), ("Auth:Password", "p")));
        Assert.Empty(Problems(protocol, ("Auth:Kind", "Bearer"), ("Auth:Token", "t")));
        Assert.Empty(Problems(protocol, ("Auth:Kind", "OAuth2ClientCredentials"), ("Auth:TokenUrl", "https://idp.example/token"),
            ("Auth:ClientId", "relay"), ("Auth:ClientSecret", "s"), ("Auth:Scope", "a b"), ("Auth:Audience", "api")));
    }

    [Fact]
    public void An_unknown_kind_names_its_key()
    {
        var problem = Assert.Single(Problems("Http", ("Auth:Kind", "Digest")));

        Assert.Contains("Relay:Destinations:partner:Auth:Kind", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_settings_of_a_kind_are_named_each()
    {
        Assert.Equal(
        [
            "Relay:Destinations:partner:Auth:TokenUrl is missing: the authorization server's token endpoint (https://login.example.com/oauth2/token).",
            "Relay:Destinations:partner:Auth:ClientId is missing.",
            "Relay:Destinations:partner:Auth:ClientSecret is missing.",
        ], Problems("Http", ("Auth:Kind", "OAuth2ClientCredentials")));
        Assert.Equal(["Relay:Destinations:partner:Auth:Password is missing."], Problems("Http", ("Auth:Kind", "Basic"), ("Auth:Username", "u")));
    }

    [Fact]
    public void A_setting_of_another_kind_or_settings_without_a_kind_are_refused()
    {
        Assert.Equal(["Relay:Destinations:partner:Auth:Token is not a setting of Auth:Kind Basic (which takes Username, Password)."],
            Problems("Http", ("Auth:Kind", "Basic"), ("Auth:Username", "u"), ("Auth:Password", "p"), ("Auth:Token", "t")));
        Assert.Equal(["Relay:Destinations:partner:Auth:Kind is missing; give Basic, Bearer or OAuth2ClientCredentials."],
            Problems("Http", ("Auth:Token", "t")));
    }

    [Fact]
    public void Auth_and_a_configured_Authorization_header_together_are_refused()
    {
        var problem = Assert.Single(Problems("Http", ("Auth:Kind", "Bearer"), ("Auth:Token", "t"), ("Headers:Authorization", "Bearer x")));

        Assert.StartsWith("Relay:Destinations:partner:Headers:Authorization and Relay:Destinations:partner:Auth both set", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_secret_reference_to_a_missing_file_or_an_unset_variable_names_the_key_and_never_a_secret()
    {
        var missing = Path.Combine(Path.GetTempPath(), "relay-no-such-secret-" + Guid.NewGuid().ToString("N"));

        Assert.Equal(
        [
            $"Relay:Destinations:partner:Auth:ClientSecret refers to the file '{OptionRules.Shorten(missing)}', which does not exist.",
        ], Problems("Http", ("Auth:Kind", "OAuth2ClientCredentials"), ("Auth:TokenUrl", "https://idp.example/token"), ("Auth:ClientId", "relay"),
            ("Auth:ClientSecret", "${file:" + missing + "}")));
        Assert.Equal(
        [
            "Relay:Destinations:partner:Auth:Token refers to the environment variable 'RELAY_TEST_UNSET_TOKEN_9F', which is not set (or empty).",
        ], Problems("Soap", ("Auth:Kind", "Bearer"), ("Auth:Token", "${env:RELAY_TEST_UNSET_TOKEN_9F}")));
    }

    [Fact]
    public void A_client_certificate_that_cannot_be_loaded_or_a_plain_http_address_is_named()
    {
        using var ca = TestCertificateAuthority.Create("Relay Validator CA");
        var issued = ca.Issue("client");

        Assert.Empty(Problems("Http", ("ClientCertificate:Path", issued.CertificatePath), ("ClientCertificate:KeyPath", issued.KeyPath), ("TrustedCaPath", ca.CaPath)));
        const string CannotLoad = "Relay:Destinations:partner:ClientCertificate cannot be loaded: not a PEM certificate with its private key (in "
            + "Relay:Destinations:partner:ClientCertificate:KeyPath or the same file), nor a PKCS#12 file, or the wrong Relay:Destinations:partner:ClientCertificate:Password.";
        Assert.Equal([CannotLoad], Problems("Http", ("ClientCertificate:Path", issued.CertificatePath)));
        Assert.Equal([CannotLoad], Problems("Http", ("ClientCertificate:Path", issued.CertificatePath), ("ClientCertificate:KeyPath", ca.CaPath)));
        Assert.Equal(["Relay:Destinations:partner:ClientCertificate:Path is missing: the client certificate, a PEM file (with KeyPath, or holding the key too) or a PKCS#12 (.pfx, .p12) file."],
            Problems("Http", ("ClientCertificate:KeyPath", issued.KeyPath)));
        var plain = DestinationSettings.Problems(("Relay:Destinations:partner:Address", "http://127.0.0.1:9000/in"),
            ("Relay:Destinations:partner:TrustedCaPath", ca.CaPath));
        Assert.Equal(["Relay:Destinations:partner:TrustedCaPath is set but Relay:Destinations:partner:Address is not https://; use an https:// address, or leave TrustedCaPath out."], plain);
    }
}
