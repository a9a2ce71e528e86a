using Microsoft.Extensions.DependencyInjection;
using Relay.Adapters.Ftp;
using Relay.Adapters.Http;
using Relay.Adapters.Ldap;
using Relay.Adapters.Smtp;
using Relay.Adapters.Soap;
using Relay.Core.Messages;
using Relay.Core.Options;

namespace Relay.Adapters.Tests.Destinations;

/// <summary>Each adapter registers its protocol, and each destination binds to its protocol's class from the same keys as ever.</summary>
public sealed class DestinationProtocolsTests
{
    [Fact]
    public void Each_adapter_registers_its_protocol_once_even_when_added_twice()
    {
        var services = new ServiceCollection().AddRelayAdapters().AddRelayAdapters();

        Assert.Equal(["Http", "Soap", "Ftp", "Smtp", "Ldap", "Ebms2"], services.RegisteredProtocols().Select(p => p.Name));
        Assert.Equal(6, services.Count(d => d.ServiceType == typeof(IProtocolAdapter)));
    }

    [Fact]
    public void Each_destination_binds_to_its_protocol_s_class_with_its_protocol_s_keys()
    {
        var (destinations, problems) = DestinationSettings.Bind(
            ("Relay:Destinations:billing:Address", "http://127.0.0.1:9000/bill"), ("Relay:Destinations:billing:Method", "PUT"),
            ("Relay:Destinations:billing:Headers:X-Api-Key", "k"), ("Relay:Destinations:billing:MaxPerSecond", "500"),
            ("Relay:Destinations:legacy:Protocol", "soap"), ("Relay:Destinations:legacy:Address", "http://127.0.0.1:9001/svc"),
            ("Relay:Destinations:legacy:SoapVersion", "1.2"), ("Relay:Destinations:legacy:SoapAction", "urn:do"),
            ("Relay:Destinations:legacy:RetryOnServerFault", "false"), ("Relay:Destinations:legacy:Username", "relay"),
            ("Relay:Destinations:files:Protocol", "Ftp"), ("Relay:Destinations:files:Address", "ftp://127.0.0.1/in/"),
            ("Relay:Destinations:files:FileName", "order-{id}.json"), ("Relay:Destinations:files:UseTls", "true"),
            ("Relay:Destinations:mail:Protocol", "Smtp"), ("Relay:Destinations:mail:Address", "smtp://127.0.0.1:25"),
            ("Relay:Destinations:mail:From", "relay@example.com"), ("Relay:Destinations:mail:To:0", "a@example.com"),
            ("Relay:Destinations:mail:To:1", "b@example.com"), ("Relay:Destinations:mail:Subject", "Order {id}"),
            ("Relay:Destinations:mail:AllowReplyHeaders", "true"),
            ("Relay:Destinations:directory:Protocol", "LDAP"), ("Relay:Destinations:directory:Address", "ldap://127.0.0.1:389"),
            ("Relay:Destinations:directory:BindDn", "cn=admin,dc=example,dc=com"), ("Relay:Destinations:directory:Password", "pw"));

        Assert.Empty(problems);
        var http = Assert.IsType<HttpDestinationOptions>(destinations["billing"]);
        Assert.Equal(("Http", "PUT", 500, "k"), (http.Protocol, http.Method, http.MaxPerSecond, http.Headers["x-api-key"]));
        var soap = Assert.IsType<SoapDestinationOptions>(destinations["legacy"]);
        Assert.Equal(("1.2", "urn:do", false, "relay"), (soap.SoapVersion, soap.SoapAction, soap.RetryOnServerFault, soap.Username));
        var ftp = Assert.IsType<FtpDestinationOptions>(destinations["files"]);
        Assert.Equal(("order-{id}.json", true), (ftp.FileName, ftp.UseTls));
        var smtp = Assert.IsType<SmtpDestinationOptions>(destinations["mail"]);
        Assert.Equal(("relay@example.com", "Order {id}", true), (smtp.From, smtp.Subject, smtp.AllowReplyHeaders));
        Assert.Equal(["a@example.com", "b@example.com"], smtp.To);
        var ldap = Assert.IsType<LdapDestinationOptions>(destinations["directory"]);
        Assert.Equal(("cn=admin,dc=example,dc=com", "pw"), (ldap.BindDn, ldap.Password));
    }

    [Fact]
    public void The_defaults_of_each_protocol_s_settings_are_those_documented()
    {
        var (destinations, _) = DestinationSettings.Bind(
            ("Relay:Destinations:h:Address", "http://127.0.0.1/"),
            ("Relay:Destinations:s:Protocol", "Soap"), ("Relay:Destinations:s:Address", "http://127.0.0.1/"),
            ("Relay:Destinations:f:Protocol", "Ftp"), ("Relay:Destinations:f:Address", "ftp://127.0.0.1/"),
            ("Relay:Destinations:m:Protocol", "Smtp"), ("Relay:Destinations:m:Address", "smtp://127.0.0.1/"));

        Assert.Equal("POST", Assert.IsType<HttpDestinationOptions>(destinations["h"]).Method);
        var soap = Assert.IsType<SoapDestinationOptions>(destinations["s"]);
        Assert.Equal(("1.1", true, (string?)null), (soap.SoapVersion, soap.RetryOnServerFault, soap.SoapAction));
        Assert.Equal(("{id}.dat", false), (Assert.IsType<FtpDestinationOptions>(destinations["f"]).FileName, ((FtpDestinationOptions)destinations["f"]).UseTls));
        var smtp = Assert.IsType<SmtpDestinationOptions>(destinations["m"]);
        Assert.Equal(("{id}", false, false), (smtp.Subject, smtp.AllowReplyHeaders, smtp.UseTls));
    }

    [Fact]
    public void A_destination_of_an_unknown_protocol_binds_its_shared_settings_and_is_named_by_the_validator()
    {
        var problems = DestinationSettings.Problems(
            ("Relay:Destinations:x:Protocol", "Gopher"), ("Relay:Destinations:x:Address", "gopher://127.0.0.1/"), ("Relay:Destinations:x:SoapVersion", "9"));

        Assert.Equal(["Relay:Destinations:x:Protocol is 'Gopher'; it must be one of Http, Soap, Ftp, Smtp, Ldap, Ebms2."], problems);
    }

    [Fact]
    public void A_protocol_setting_that_does_not_convert_is_named_instead_of_the_destination_vanishing()
    {
        var (destinations, problems) = DestinationSettings.Bind(
            ("Relay:Destinations:legacy:Protocol", "Soap"), ("Relay:Destinations:legacy:Address", "http://127.0.0.1/"),
            ("Relay:Destinations:legacy:RetryOnServerFault", "maybe"));

        Assert.Contains("Relay:Destinations:legacy:RetryOnServerFault", Assert.Single(problems), StringComparison.Ordinal);
        Assert.Empty(destinations);
    }

    [Fact]
    public void An_Ldap_BindDn_is_a_credential_of_the_destination_so_a_sender_cannot_add_another()
    {
        Assert.NotNull(DestinationHeaders.Refusal(new LdapDestinationOptions { BindDn = "cn=relay,dc=example,dc=com" }, "Authorization"));
        Assert.Null(DestinationHeaders.Refusal(new LdapDestinationOptions(), "Authorization"));
    }

    [Fact]
    public void Options_built_by_hand_without_the_protocol_s_class_are_named_not_checked_silently()
    {
        var error = DestinationSettings.OnlyError(new DestinationOptions { Protocol = "Soap", Address = "http://127.0.0.1/" });

        Assert.Equal("Relay:Destinations:target is not bound as a Soap destination, so its Soap settings cannot be checked.", error);
    }
}
