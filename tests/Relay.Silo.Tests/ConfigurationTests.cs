namespace Relay.Silo.Tests;

/// <summary>
/// The real silo process with bad configuration stops at start-up with exit code 2 and a line on stderr that names
/// the key; <c>--config FILE</c> is read, below the command line and above appsettings.json.
/// </summary>
public sealed class ConfigurationTests
{
    private const string Destination = "--Relay:Destinations:x:Address=http://127.0.0.1:1/";

    public static TheoryData<string, string[]> BadSettings => new()
    {
        // the key the error names, the command line
        { "Relay:Destinations:x:Contract", [Destination, "--Relay:Destinations:x:Contract=nope"] },
        { "Relay:Destinations:x:Notify", [Destination, "--Relay:Destinations:x:Notify=ghost"] },
        { "Relay:Topics:t:0", [Destination, "--Relay:Topics:t:0=ghost"] },
        { "Relay:Topics:t:Subscriptions:0:Destination", [Destination, "--Relay:Topics:t:Subscriptions:0:Destination=ghost"] },
        { "Relay:Contracts:c:MaxAttempts", ["--Relay:Contracts:c:MaxAttempts=0"] },
        { "Relay:Destinations:x:Address", ["--Relay:Destinations:x:Address=not a uri"] },
        { "Relay:Audit:Retention", ["--Relay:Audit:Retention=abc"] },
        { "Relay:Limits:MaxPayloadBytes", ["--Relay:Limits:MaxPayloadBytes=big"] },
        // Values inside a named contract or destination: the binder drops an entry it cannot convert, silently.
        { "Relay:Contracts:c:Delay", ["--Relay:Contracts:c:Delay=abc"] },
        { "Relay:Contracts:c:MaxAttempts", ["--Relay:Contracts:c:MaxAttempts=many"] },
        { "Relay:Contracts:c:ImmediateRetries", ["--Relay:Contracts:c:ImmediateRetries=11"] },
        { "Relay:Contracts:c:ImmediateRetries", ["--Relay:Contracts:c:ImmediateRetries=some"] },
        { "Relay:Destinations:x:SyncTimeout", [Destination, "--Relay:Destinations:x:SyncTimeout=abc"] },
        { "Relay:Storage:Provider", ["--Relay:Storage:Provider=Oracle"] },
        // A key left empty (a secret that did not arrive) would otherwise vanish, and with it the only key: anonymous mode.
        { "Relay:Security:OperatorKeys:ops", ["--Relay:Security:OperatorKeys:ops="] },
        { "Relay:Security:SenderKeys:0", ["--Relay:Security:SenderKeys:0=   "] },
        { "Relay:Security:SenderKeys:shop", ["--Relay:Security:OperatorKeys:ops=a-real-key", "--Relay:Security:SenderKeys:shop="] },
        { "Relay:Security:OperatorKeys", ["--Relay:Security:OperatorKeys=a-key-without-a-name"] },
        // /metrics opened to a scrape key or networks (issue 15, item 11): a key that did not arrive, a network mistyped.
        { "Relay:Metrics:ScrapeKey", ["--Relay:Security:OperatorKeys:ops=a-real-key", "--Relay:Metrics:ScrapeKey= "] },
        { "Relay:Metrics:AllowedNetworks:0", ["--Relay:Metrics:AllowedNetworks:0=10.0.0.1/8"] },
        { "Relay:Metrics:AllowedNetworks:1", ["--Relay:Metrics:AllowedNetworks:0=10.0.0.0/8", "--Relay:Metrics:AllowedNetworks:1=intranet"] },
        { "Relay:Metrics:AllowedNetworks", ["--Relay:Metrics:AllowedNetworks=10.0.0.0/8"] },
        { "Relay:Health:WriteCheckInterval", ["--Relay:Health:WriteCheckInterval=00:00:00"] },
        { "Relay:Health:WriteCheckInterval", ["--Relay:Health:WriteCheckInterval=often"] },
        // A protocol's own settings, checked by its adapter's validator (issue 19, item 5): before, a bad SoapVersion
        // started and then dead-lettered every message.
        { "Relay:Destinations:x:Method", [Destination, "--Relay:Destinations:x:Method=GET /x"] },
        { "Relay:Destinations:x:SoapVersion", [Destination, "--Relay:Destinations:x:Protocol=Soap", "--Relay:Destinations:x:SoapVersion=1.3"] },
        { "Relay:Destinations:x:RetryOnServerFault", [Destination, "--Relay:Destinations:x:Protocol=Soap", "--Relay:Destinations:x:RetryOnServerFault=maybe"] },
        { "Relay:Destinations:x:FileName", [FtpDestination, "--Relay:Destinations:x:Protocol=Ftp", "--Relay:Destinations:x:FileName=fixed.dat"] },
        { "Relay:Destinations:x:UseTls", [FtpDestination, "--Relay:Destinations:x:Protocol=Ftp", "--Relay:Destinations:x:UseTls=sometimes"] },
        { "Relay:Destinations:x:From", [SmtpDestination, "--Relay:Destinations:x:Protocol=Smtp", "--Relay:Destinations:x:To:0=ops@example.com", "--Relay:Destinations:x:From=relay"] },
        { "Relay:Destinations:x:To:1", [SmtpDestination, "--Relay:Destinations:x:Protocol=Smtp", "--Relay:Destinations:x:From=relay@example.com", "--Relay:Destinations:x:To:0=ops@example.com", "--Relay:Destinations:x:To:1=nobody"] },
        { "Relay:Destinations:x:BindDn", [LdapDestination, "--Relay:Destinations:x:Protocol=Ldap", "--Relay:Destinations:x:BindDn=cn=admin,dc=example,dc=com"] },
        { "Relay:Destinations:x:UseTls", ["--Relay:Destinations:x:Address=ldaps://127.0.0.1:1/dc=example,dc=com", "--Relay:Destinations:x:Protocol=Ldap", "--Relay:Destinations:x:UseTls=true"] },
        { "Relay:Destinations:x:Address", [LdapDestinationWithoutBaseDn, "--Relay:Destinations:x:Protocol=Ldap"] },
        // Credentials of a destination speaking HTTP (issue 16, docs/AUTH.md): a kind, a missing secret, a reference
        // that does not resolve, TLS settings on a plain address.
        { "Relay:Destinations:x:Auth:Kind", [Destination, "--Relay:Destinations:x:Auth:Kind=Digest"] },
        { "Relay:Destinations:x:Auth", [Destination, "--Relay:Destinations:x:Auth=basic"] },
        { "Relay:Destinations:x:Auth:ClientSecret", [Destination, "--Relay:Destinations:x:Auth:Kind=OAuth2ClientCredentials",
            "--Relay:Destinations:x:Auth:TokenUrl=http://127.0.0.1:1/token", "--Relay:Destinations:x:Auth:ClientId=relay"] },
        { "Relay:Destinations:x:Auth:Token", [Destination, "--Relay:Destinations:x:Protocol=Soap", "--Relay:Destinations:x:Auth:Kind=Bearer",
            "--Relay:Destinations:x:Auth:Token=${env:RELAY_TEST_UNSET_TOKEN_9F}"] },
        { "Relay:Destinations:x:TrustedCaPath", [Destination, "--Relay:Destinations:x:TrustedCaPath=/etc/hostname"] },
        // The Password of Ftp, Smtp and Ldap destinations as a reference that does not resolve (issue 16, item 4).
        { "Relay:Destinations:x:Password", [FtpDestination, "--Relay:Destinations:x:Protocol=Ftp", "--Relay:Destinations:x:Username=relay",
            "--Relay:Destinations:x:Password=${file:/nonexistent/relay-test-ftp-password}"] },
        { "Relay:Destinations:x:Password", [SmtpDestination, "--Relay:Destinations:x:Protocol=Smtp", "--Relay:Destinations:x:From=relay@example.com",
            "--Relay:Destinations:x:To:0=ops@example.com", "--Relay:Destinations:x:Username=relay", "--Relay:Destinations:x:Password=${env:RELAY_TEST_UNSET_SMTP_PASSWORD_3D}"] },
        { "Relay:Destinations:x:Password", [LdapDestination, "--Relay:Destinations:x:Protocol=Ldap", "--Relay:Destinations:x:BindDn=cn=admin,dc=example,dc=com",
            "--Relay:Destinations:x:Password=${env:RELAY_TEST_UNSET_LDAP_PASSWORD_3D}"] },
    };

    private const string FtpDestination = "--Relay:Destinations:x:Address=ftp://127.0.0.1:1/in/";
    private const string SmtpDestination = "--Relay:Destinations:x:Address=smtp://127.0.0.1:1";
    private const string LdapDestination = "--Relay:Destinations:x:Address=ldap://127.0.0.1:1/dc=example,dc=com";
    private const string LdapDestinationWithoutBaseDn = "--Relay:Destinations:x:Address=ldap://127.0.0.1:1";

    [Theory]
    [MemberData(nameof(BadSettings))]
    public async Task A_bad_setting_stops_the_silo_with_exit_code_2_naming_the_key(string key, string[] args)
    {
        await using var silo = SiloProcess.Start(SiloProcess.NewWorkingDirectory(), args);

        await AssertStopsNamingAsync(silo, key);
    }

    [Fact]
    public async Task A_malformed_filter_stops_the_silo_with_exit_code_2_naming_the_key_and_the_column()
    {
        await using var silo = SiloProcess.Start(SiloProcess.NewWorkingDirectory(),
            [Destination, "--Relay:Topics:t:Subscriptions:0:Destination=x", "--Relay:Topics:t:Subscriptions:0:Filter=region = 'eu' AND amount >"]);

        await AssertStopsNamingAsync(silo, "Relay:Topics:t:Subscriptions:0:Filter", "is not a valid filter at column 27: unexpected end of input");
    }

    [Fact]
    public async Task A_topic_with_filtered_subscriptions_and_a_plain_topic_start_together()
    {
        await using var silo = SiloProcess.Start(SiloProcess.NewWorkingDirectory(),
            [Destination, "--Relay:Topics:plain:0=x", "--Relay:Topics:filtered:Subscriptions:0:Destination=x",
             "--Relay:Topics:filtered:Subscriptions:0:Filter=EXISTS(priority)", "--Relay:Topics:filtered:Subscriptions:1:Destination=x"]);

        await AssertReadyAsync(silo);
    }

    public static TheoryData<string, string, string[]> UnknownSettings => new()
    {
        // the key the error names, the nearest known name it suggests, the command line
        { "Relay:Destinations:x:Credentials", "'", [Destination, "--Relay:Destinations:x:Credentials=basic"] },
        { "Relay:Destinations:x:ClientCertificat", "'ClientCertificate'", [Destination, "--Relay:Destinations:x:ClientCertificat:Path=/etc/client.pem"] },
        { "Relay:Contracts:c:MaxAtempts", "'MaxAttempts'", ["--Relay:Contracts:c:MaxAtempts=3"] },
        { "Relay:Destinations:x:SyncTimout", "'SyncTimeout'", [Destination, "--Relay:Destinations:x:SyncTimout=00:00:01"] },
        { "Relay:Storage:Provder", "'Provider'", ["--Relay:Storage:Provder=Sqlite"] },
        { "Relay:Limit:MaxPayloadBytes", "'Limits'", ["--Relay:Limit:MaxPayloadBytes=100"] },
        { "Relay:Security:OperatorKey:ops", "'OperatorKeys'", ["--Relay:Security:OperatorKey:ops=secret-key-1"] },
        { "Relay:Cluster:Membership:ProbeTimout", "'ProbeTimeout'", ["--Relay:Cluster:Membership:ProbeTimout=00:00:05"] },
    };

    [Theory]
    [MemberData(nameof(UnknownSettings))]
    public async Task An_unknown_setting_stops_the_silo_with_exit_code_2_naming_its_path_and_the_nearest_name(string key, string nearest, string[] args)
    {
        await using var silo = SiloProcess.Start(SiloProcess.NewWorkingDirectory(), args);

        await AssertStopsNamingAsync(silo, key, nearest);
    }

    [Fact]
    public async Task An_unknown_setting_in_the_config_file_stops_the_silo()
    {
        var folder = SiloProcess.NewWorkingDirectory();
        var file = Path.Combine(folder, "relay.json");
        await File.WriteAllTextAsync(file, """
            { "Relay": { "Contracts": { "fromfile": { "MaxAttempts": 3, "Dealy": "00:00:01" } } } }
            """);

        await using var silo = SiloProcess.Start(folder, "--config", file);

        await AssertStopsNamingAsync(silo, "Relay:Contracts:fromfile:Dealy", "'Delay'");
    }

    [Fact]
    public async Task Names_chosen_by_the_operator_are_not_settings_and_start()
    {
        // Destinations, contracts, topics and headers are keyed by names the operator chooses: any name is fine there.
        await using var silo = SiloProcess.Start(SiloProcess.NewWorkingDirectory(),
            Destination, "--Relay:Destinations:x:Contract=Any.Name_1", "--Relay:Contracts:Any.Name_1:MaxAttempts=2",
            "--Relay:Destinations:x:Headers:X-Whatever-You-Like=1", "--Relay:Topics:t:0=x",
            "--relay:destinations:x:synctimeout=00:00:03", "--Relay:Cluster:Membership:ProbeTimeout=00:00:05",
            "--Relay:Dashboard:Enabled=false", "--Relay:Samples:Enabled=false", "--Relay:Telemetry:DeliveryCountsRefresh=00:00:05");

        await AssertReadyAsync(silo);
    }

    [Fact]
    public async Task The_config_file_is_read()
    {
        var folder = SiloProcess.NewWorkingDirectory();
        var file = Path.Combine(folder, "relay.json");
        await File.WriteAllTextAsync(file, """
            { "Relay": { "Destinations": { "fromfile": { "Address": "http://127.0.0.1:1/", "Contract": "missing" } } } }
            """);

        await using var silo = SiloProcess.Start(folder, "--config", file);

        await AssertStopsNamingAsync(silo, "Relay:Destinations:fromfile:Contract");
    }

    [Fact]
    public async Task A_relative_config_path_is_read_from_the_working_folder()
    {
        var folder = SiloProcess.NewWorkingDirectory();
        await File.WriteAllTextAsync(Path.Combine(folder, "relay.json"), """
            { "Relay": { "Contracts": { "fromfile": { "MaxAttempts": 0 } } } }
            """);

        await using var silo = SiloProcess.Start(folder, "--config", "relay.json");

        await AssertStopsNamingAsync(silo, "Relay:Contracts:fromfile:MaxAttempts");
    }

    [Fact]
    public async Task A_missing_config_file_stops_the_silo_naming_it()
    {
        var folder = SiloProcess.NewWorkingDirectory();

        await using var silo = SiloProcess.Start(folder, "--config", "absent.json");

        await AssertStopsNamingAsync(silo, "absent.json");
    }

    [Fact]
    public async Task A_command_line_value_wins_over_the_config_file_that_was_good()
    {
        var folder = SiloProcess.NewWorkingDirectory();
        var file = Path.Combine(folder, "relay.json");
        await File.WriteAllTextAsync(file, """
            { "Relay": { "Contracts": { "c": { "MaxAttempts": 3, "Delay": "00:00:01" } } } }
            """);

        await using var silo = SiloProcess.Start(folder, "--config", file, "--Relay:Contracts:c:MaxAttempts=0");

        await AssertStopsNamingAsync(silo, "Relay:Contracts:c:MaxAttempts");
    }

    [Fact]
    public async Task A_command_line_value_wins_over_the_config_file_that_was_bad_and_the_silo_starts()
    {
        var folder = SiloProcess.NewWorkingDirectory();
        var file = Path.Combine(folder, "relay.json");
        await File.WriteAllTextAsync(file, """
            { "Relay": { "Contracts": { "c": { "MaxAttempts": 0, "Delay": "00:00:01" } } } }
            """);

        await using var silo = SiloProcess.Start(folder, "--config", file, "--Relay:Contracts:c:MaxAttempts=3");

        await AssertReadyAsync(silo);
    }

    [Fact]
    public async Task The_config_file_wins_over_appsettings_json()
    {
        // The working folder is the content root: its appsettings.json is read, and --config is "one more file" over it.
        var folder = SiloProcess.NewWorkingDirectory();
        await File.WriteAllTextAsync(Path.Combine(folder, "appsettings.json"), """
            { "Relay": { "Contracts": { "c": { "MaxAttempts": 3, "Delay": "00:00:01" } } } }
            """);
        var file = Path.Combine(folder, "relay.json");
        await File.WriteAllTextAsync(file, """
            { "Relay": { "Contracts": { "c": { "MaxAttempts": 0 } } } }
            """);

        await using var silo = SiloProcess.Start(folder, "--config", file);

        await AssertStopsNamingAsync(silo, "Relay:Contracts:c:MaxAttempts");
    }

    [Fact]
    public async Task A_good_configuration_starts_and_is_Ready()
    {
        await using var silo = SiloProcess.Start(SiloProcess.NewWorkingDirectory(),
            Destination, "--Relay:Destinations:x:Contract=c", "--Relay:Contracts:c:MaxAttempts=2", "--Relay:Topics:t:0=x");

        await AssertReadyAsync(silo);
    }

    private static async Task AssertStopsNamingAsync(SiloProcess silo, string key, string also = "")
    {
        var exitCode = await silo.ExitCodeOrReadyAsync();

        Assert.True(exitCode is not null, $"The silo started and is Ready; expected it to refuse '{key}'.{Environment.NewLine}{silo}");
        Assert.True(exitCode == 2, $"Exit code {exitCode}, expected 2.{Environment.NewLine}{silo}");
        var lines = silo.StandardError.Split(Environment.NewLine);
        Assert.True(lines.Any(l => l.Contains(key, StringComparison.Ordinal) && l.Contains(also, StringComparison.Ordinal)),
            $"No line on stderr names '{key}' (and {also}).{Environment.NewLine}{silo}");
    }

    private static async Task AssertReadyAsync(SiloProcess silo)
    {
        var exitCode = await silo.ExitCodeOrReadyAsync();

        Assert.True(exitCode is null, $"The silo exited with {exitCode}.{Environment.NewLine}{silo}");
        using var response = await silo.GetAsync("/health");
        var body = await TestSilo.ReadAsync(response);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Ready", (string?)body["status"]);
    }
}
