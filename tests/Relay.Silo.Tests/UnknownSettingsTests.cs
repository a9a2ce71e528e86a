using Microsoft.Extensions.Configuration;
using Relay.Silo.Hosting;

namespace Relay.Silo.Tests;

/// <summary>
/// Which keys under <c>Relay:</c> are unknown: property names are checked (case-insensitively, as the binder reads
/// them), names chosen by the operator (dictionary keys) and list indexes are not. The process-level refusal (exit
/// code 2) is in <see cref="ConfigurationTests"/>.
/// </summary>
public sealed class UnknownSettingsTests
{
    private static IReadOnlyList<string> Find(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value)))
            .Build();
        return UnknownSettings.Find(configuration.GetSection("Relay"));
    }

    [Fact]
    public void A_complete_configuration_has_no_unknown_key()
    {
        Assert.Empty(Find(
            ("Relay:Storage:Provider", "AdoNet"), ("Relay:Storage:ConnectionString", "Host=db"), ("Relay:Storage:Migrate", "true"),
            ("Relay:Cluster:AdvertisedIP", "10.0.0.1"), ("Relay:Cluster:Membership:ProbeTimeout", "00:00:05"),
            ("Relay:Cluster:Membership:IAmAliveTablePublishTimeout", "00:00:05"), ("Relay:Cluster:Membership:NumMissedProbesLimit", "2"),
            ("Relay:Cluster:Membership:TableRefreshTimeout", "00:00:05"), ("Relay:Destinations:mail:AllowReplyHeaders", "true"),
            ("Relay:Contracts:fast:MaxAttempts", "5"), ("Relay:Contracts:fast:Backoff", "Exponential"), ("Relay:Contracts:fast:MaxDelay", "01:00:00"),
            ("Relay:Destinations:billing:Address", "http://127.0.0.1:9000/"), ("Relay:Destinations:billing:Headers:X-Api-Key", "k"),
            ("Relay:Destinations:mail:To:0", "a@example.com"), ("Relay:Destinations:mail:To:1", "b@example.com"),
            ("Relay:Topics:order.created:0", "billing"), ("Relay:Limits:MaxPayloadBytes", "100"), ("Relay:Audit:Retention", "1.00:00:00"),
            ("Relay:Scheduler:Shards", "4"), ("Relay:Security:SenderKeys:shop", "k1"), ("Relay:Security:OperatorKeys:0", "k2"),
            ("Relay:Telemetry:OtlpEndpoint", "http://127.0.0.1:4318"), ("Relay:Dashboard:Enabled", "false"), ("Relay:Samples:Enabled", "true"),
            ("Relay:Cluster:Tls:Enabled", "true"), ("Relay:Cluster:Tls:CertificatePath", "/silo.pem"), ("Relay:Cluster:Tls:KeyPath", "/silo.key"),
            ("Relay:Cluster:Tls:Password", "p"), ("Relay:Cluster:Tls:CaPath", "/ca.pem")));
    }

    [Fact]
    public void A_topic_s_subscriptions_with_filters_are_known_beside_a_plain_list()
    {
        Assert.Empty(Find(("Relay:Topics:plain:0", "a"), ("Relay:Topics:plain:1", "b"),
            ("Relay:Topics:filtered:Subscriptions:0:Destination", "a"), ("Relay:Topics:filtered:Subscriptions:0:Filter", "x = 1"),
            ("Relay:Topics:filtered:Subscriptions:1:Destination", "b")));
    }

    [Fact]
    public void A_misspelled_subscription_setting_is_found()
    {
        var problem = Assert.Single(Find(("Relay:Topics:t:Subscriptions:0:Destination", "a"), ("Relay:Topics:t:Subscriptions:0:Filtr", "x = 1")));

        Assert.Equal("Relay:Topics:t:Subscriptions:0:Filtr is not a known setting; did you mean 'Filter'?", problem);
    }

    [Fact]
    public void A_filter_inside_a_plain_list_is_refused_with_the_shape_to_use()
    {
        var problem = Assert.Single(Find(("Relay:Topics:t:0:Destination", "a"), ("Relay:Topics:t:1", "b")));

        Assert.StartsWith("Relay:Topics:t:0:Destination is not a known setting: Relay:Topics:t:0 is a destination name in a plain list; "
                          + "a subscription with a filter is written Relay:Topics:t:Subscriptions:0:Destination", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_misspelled_cluster_TLS_setting_is_found()
    {
        var problem = Assert.Single(Find(("Relay:Cluster:Tls:CaPth", "/ca.pem")));

        Assert.Equal("Relay:Cluster:Tls:CaPth is not a known setting; did you mean 'CaPath'?", problem);
    }

    [Theory]
    [InlineData("Http", "Method", "PUT")]
    [InlineData("Soap", "SoapAction", "urn:do")]
    [InlineData("Soap", "SoapVersion", "1.2")]
    [InlineData("Soap", "RetryOnServerFault", "false")]
    [InlineData("Ftp", "FileName", "{id}.json")]
    [InlineData("Ftp", "UseTls", "true")]
    [InlineData("Smtp", "From", "relay@example.com")]
    [InlineData("Smtp", "To:0", "ops@example.com")]
    [InlineData("Smtp", "Subject", "Order {id}")]
    [InlineData("Smtp", "AllowReplyHeaders", "true")]
    [InlineData("Ldap", "BindDn", "cn=admin")]
    [InlineData("Ldap", "Password", "pw")]
    public void Each_protocol_s_settings_are_known_now_that_its_adapter_owns_them(string protocol, string key, string value)
    {
        Assert.Empty(Find(("Relay:Destinations:d:Protocol", protocol), ($"Relay:Destinations:d:{key}", value)));
    }

    [Fact]
    public void Every_setting_of_every_protocol_s_class_is_known()
    {
        // The classes the adapters bind their destinations to: a property added to one is a key users may write.
        var classes = typeof(Relay.Adapters.DestinationProtocol).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(Relay.Core.Options.DestinationOptions))).ToList();
        // The six protocols' classes, and the settings the two speaking HTTP share (HttpTransportDestinationOptions).
        Assert.Equal(7, classes.Count);
        foreach (var property in classes.SelectMany(t => t.GetProperties()))
        {
            // A section (Auth, ClientCertificate) is given one of its own settings.
            var key = property.PropertyType.IsClass && property.PropertyType != typeof(string) && !typeof(System.Collections.IEnumerable).IsAssignableFrom(property.PropertyType)
                ? $"{property.Name}:{property.PropertyType.GetProperties()[0].Name}"
                : property.Name;
            Assert.Empty(Find(($"Relay:Destinations:d:{key}", "1")));
        }
    }

    [Fact]
    public void A_section_given_a_value_is_reported_with_the_settings_it_takes()
    {
        var problem = Assert.Single(Find(("Relay:Destinations:x:Auth", "basic")));

        Assert.StartsWith("Relay:Destinations:x:Auth takes settings below it (Audience, ClientId, ClientSecret, Kind, ", problem, StringComparison.Ordinal);
        Assert.EndsWith("), not a value.", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Names_are_compared_as_the_binder_does_without_case()
    {
        Assert.Empty(Find(("relay:destinations:Billing:synctimeout", "00:00:03"), ("RELAY:CONTRACTS:c:MAXATTEMPTS", "2")));
    }

    [Fact]
    public void A_misspelled_property_inside_a_named_contract_is_found_with_its_full_path_and_the_nearest_name()
    {
        var problem = Assert.Single(Find(("Relay:Contracts:fast:MaxAtempts", "3")));

        Assert.Equal("Relay:Contracts:fast:MaxAtempts is not a known setting; did you mean 'MaxAttempts'?", problem);
    }

    [Fact]
    public void A_name_far_from_any_known_one_lists_the_known_names()
    {
        var problem = Assert.Single(Find(("Relay:Destinations:x:Credentials", "basic")));

        Assert.StartsWith("Relay:Destinations:x:Credentials is not a known setting; the nearest known name is '", problem, StringComparison.Ordinal);
        Assert.Contains("Address, ", problem, StringComparison.Ordinal);
        Assert.Contains("Username", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_section_names_the_keys_below_it()
    {
        var problem = Assert.Single(Find(("Relay:Limit:MaxPayloadBytes", "100"), ("Relay:Limit:MaxHeaders", "3")));

        Assert.Equal("Relay:Limit (Relay:Limit:MaxHeaders, Relay:Limit:MaxPayloadBytes) is not a known setting; did you mean 'Limits'?", problem);
    }

    [Fact]
    public void Every_unknown_key_is_reported_not_only_the_first()
    {
        Assert.Equal(3, Find(("Relay:Storage:Provder", "Sqlite"), ("Relay:Destinations:x:ClientCertificate", "/client.pem"),
            ("Relay:Destinations:y:Address", "http://127.0.0.1:1/"), ("Relay:Scheduler:Shard", "2")).Count);
    }

    [Fact]
    public void Below_a_value_nothing_is_known()
    {
        var problem = Assert.Single(Find(("Relay:Destinations:x:Headers:X-Api-Key:Value", "k"), ("Relay:Storage:Provider", "Sqlite")));

        Assert.StartsWith("Relay:Destinations:x:Headers:X-Api-Key:Value is not a known setting", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("MaxAttempts", "MaxAttempts", 0)]
    [InlineData("MaxAtempts", "MaxAttempts", 1)]
    [InlineData("Provder", "Provider", 1)]
    [InlineData("", "abc", 3)]
    [InlineData("kitten", "sitting", 3)]
    public void The_edit_distance_counts_insertions_deletions_and_substitutions(string a, string b, int expected)
    {
        Assert.Equal(expected, UnknownSettings.EditDistance(a, b));
        Assert.Equal(expected, UnknownSettings.EditDistance(b, a));
    }
}
