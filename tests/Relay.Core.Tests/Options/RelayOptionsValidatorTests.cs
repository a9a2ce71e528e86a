namespace Relay.Core.Tests.Options;

public class RelayOptionsValidatorTests
{
    /// <summary>A protocol as an adapter registers it, with the rules of its own settings (none by default).</summary>
    private sealed class TestProtocol(string name, string[] schemes, Action<string, DestinationOptions, ICollection<string>>? rules = null)
        : IDestinationProtocol
    {
        public string Name => name;
        public IReadOnlyCollection<string> Schemes => schemes;
        public void Validate(string key, DestinationOptions destination, ICollection<string> errors) => rules?.Invoke(key, destination, errors);
    }

    private static readonly TestProtocol Http = new("Http", ["http", "https"]);
    private static readonly TestProtocol Ftp = new("Ftp", ["ftp"]);
    private static readonly TestProtocol Ldap = new("Ldap", ["ldap"]);
    private static readonly IDestinationProtocol[] HttpOnly = [Http];

    private static IReadOnlyList<string> Validate(RelayOptions options) => RelayOptionsValidator.Validate(options, HttpOnly);

    /// <summary>The configuration of docs/API.md ("Configuration"), with the destination <c>shipping</c> its topic names.</summary>
    private static RelayOptions ContractExample() => new()
    {
        Storage = { Provider = "Sqlite", DataPath = "./data" },
        Cluster = { ClusterId = "relay", ServiceId = "relay", SiloPort = 11111, GatewayPort = 30000 },
        Contracts =
        {
            ["fast"] = new RetryContractOptions { MaxAttempts = 5, Delay = TimeSpan.FromSeconds(5) },
            ["slow"] = new RetryContractOptions { MaxAttempts = 5, Delay = TimeSpan.FromHours(12) },
            ["backoff"] = new RetryContractOptions
            {
                MaxAttempts = 10, Delay = TimeSpan.FromSeconds(1), Backoff = BackoffKind.Exponential,
                MaxDelay = TimeSpan.FromHours(1), Jitter = 0.2,
            },
        },
        Destinations =
        {
            ["billing"] = new DestinationOptions
            {
                Protocol = "Http", Address = "http://127.0.0.1:9000/bill", Contract = "fast",
                SyncTimeout = TimeSpan.FromSeconds(2), Notify = "app-callbacks", MaxConcurrency = 64, MaxPerSecond = 500,
                FailureThreshold = 5, BreakDuration = TimeSpan.FromSeconds(30),
            },
            ["shipping"] = new DestinationOptions { Protocol = "Http", Address = "https://shipping.example.com/orders", Contract = "backoff" },
            ["app-callbacks"] = new DestinationOptions { Protocol = "Http", Address = "http://127.0.0.1:9100/notify", Contract = "fast" },
        },
        Topics = { ["order.created"] = TopicOptions.Of("billing", "shipping") },
    };

    private static string OnlyError(RelayOptions options, IReadOnlyCollection<IDestinationProtocol>? protocols = null) =>
        Assert.Single(RelayOptionsValidator.Validate(options, protocols ?? HttpOnly));

    [Fact]
    public void The_configuration_of_the_contract_is_valid()
    {
        Assert.Empty(Validate(ContractExample()));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2001)]
    public void A_catalog_poll_interval_beyond_2_seconds_or_not_positive_is_refused_naming_the_key(int milliseconds)
    {
        var options = ContractExample();
        options.Catalog.PollInterval = TimeSpan.FromMilliseconds(milliseconds);

        Assert.StartsWith("Relay:Catalog:PollInterval is ", OnlyError(options), StringComparison.Ordinal);
    }

    [Fact]
    public void The_defaults_are_valid()
    {
        Assert.Empty(Validate(new RelayOptions()));
    }

    [Fact]
    public void The_contract_page_example_as_printed_lacks_the_shipping_destination()
    {
        var options = ContractExample();
        options.Destinations.Remove("shipping");

        Assert.Equal("Relay:Topics:order.created:1 names the unknown destination 'shipping' (known: app-callbacks, billing).", OnlyError(options));
    }

    [Fact]
    public void An_unknown_contract_of_a_destination_is_named_with_the_known_ones()
    {
        var options = ContractExample();
        options.Contracts.Remove("backoff");
        options.Destinations.Remove("shipping");
        options.Topics.Clear();
        options.Destinations["billing"].Contract = "fastt";

        Assert.Equal("Relay:Destinations:billing:Contract names the unknown contract 'fastt' (known: fast, slow).", OnlyError(options));
    }

    [Fact]
    public void The_built_in_default_contract_needs_no_configuration()
    {
        var options = ContractExample();
        options.Contracts.Clear();
        foreach (var destination in options.Destinations.Values)
        {
            destination.Contract = RelayOptions.DefaultContractName;
        }

        Assert.Empty(Validate(options));
    }

    [Fact]
    public void A_destination_without_contract_is_valid()
    {
        var options = ContractExample();
        options.Destinations["billing"].Contract = null;

        Assert.Empty(Validate(options));
    }

    [Fact]
    public void Every_problem_is_reported_not_only_the_first()
    {
        var options = ContractExample();
        options.Destinations["billing"].Contract = "nope";
        options.Contracts["fast"].MaxAttempts = 0;
        options.Scheduler.Shards = 0;

        Assert.Equal(3, Validate(options).Count);
    }

    public static TheoryData<string, Action<RelayOptions>> Problems => new()
    {
        // Key the message must name, and the change that breaks it.
        { "Relay:Destinations:billing:Contract", o => o.Destinations["billing"].Contract = "fastt" },
        { "Relay:Destinations:billing:Contract", o => o.Destinations["billing"].Contract = "Fast" },
        { "Relay:Destinations:billing:Notify", o => o.Destinations["billing"].Notify = "app-callback" },
        { "Relay:Topics:order.created:1", o => o.Topics["order.created"] = TopicOptions.Of("billing", "shiping") },
        { "Relay:Topics:order.created", o => o.Topics["order.created"] = TopicOptions.Of() },
        { "Relay:Contracts:fast:MaxAttempts", o => o.Contracts["fast"].MaxAttempts = 0 },
        { "Relay:Contracts:fast:MaxAttempts", o => o.Contracts["fast"].MaxAttempts = -3 },
        { "Relay:Contracts:fast:Delay", o => o.Contracts["fast"].Delay = TimeSpan.FromSeconds(-1) },
        { "Relay:Contracts:backoff:MaxDelay", o => o.Contracts["backoff"].MaxDelay = TimeSpan.FromMilliseconds(999) },
        { "Relay:Contracts:backoff:Jitter", o => o.Contracts["backoff"].Jitter = 1.01 },
        { "Relay:Contracts:backoff:Jitter", o => o.Contracts["backoff"].Jitter = -0.1 },
        { "Relay:Contracts:backoff:Jitter", o => o.Contracts["backoff"].Jitter = double.NaN },
        { "Relay:Contracts:fast:Backoff", o => o.Contracts["fast"].Backoff = (BackoffKind)7 },
        { "Relay:Contracts:fast:ImmediateRetries", o => o.Contracts["fast"].ImmediateRetries = -1 },
        { "Relay:Contracts:fast:ImmediateRetries", o => o.Contracts["fast"].ImmediateRetries = 11 },
        { "Relay:Destinations:bill/ing", o => o.Destinations["bill/ing"] = new DestinationOptions { Address = "http://x/" } },
        { "Relay:Destinations:bill ing", o => o.Destinations["bill ing"] = new DestinationOptions { Address = "http://x/" } },
        { "Relay:Destinations:" + new string('d', 101), o => o.Destinations[new string('d', 101)] = new DestinationOptions { Address = "http://x/" } },
        { "Relay:Destinations:none", o => o.Destinations["none"] = new DestinationOptions { Address = "http://x/" } },
        { "Relay:Destinations:empty", o => o.Destinations["empty"] = null! },
        { "Relay:Topics:order/created", o => o.Topics["order/created"] = TopicOptions.Of("billing") },
        { "Relay:Topics:order:created", o => o.Topics["order:created"] = TopicOptions.Of("billing") },
        { "Relay:Contracts:fäst", o => o.Contracts["fäst"] = new RetryContractOptions() },
        { "Relay:Contracts:", o => o.Contracts[""] = new RetryContractOptions() },
        { "Relay:Destinations:billing:Address", o => o.Destinations["billing"].Address = "" },
        { "Relay:Destinations:billing:Address", o => o.Destinations["billing"].Address = "127.0.0.1:9000/bill" },
        { "Relay:Destinations:billing:Address", o => o.Destinations["billing"].Address = "/bill" },
        { "Relay:Destinations:billing:Address", o => o.Destinations["billing"].Address = "ftp://127.0.0.1/bill" },
        { "Relay:Destinations:billing:Address", o => o.Destinations["billing"].Address = "mailto:billing@example.com" },
        { "Relay:Destinations:billing:Protocol", o => o.Destinations["billing"].Protocol = "Smtp" },
        { "Relay:Destinations:billing:Protocol", o => o.Destinations["billing"].Protocol = "" },
        { "Relay:Destinations:billing:SyncTimeout", o => o.Destinations["billing"].SyncTimeout = TimeSpan.Zero },
        { "Relay:Destinations:billing:SyncTimeout", o => o.Destinations["billing"].SyncTimeout = TimeSpan.FromMinutes(5).Add(TimeSpan.FromTicks(1)) },
        { "Relay:Destinations:billing:Timeout", o => o.Destinations["billing"].Timeout = TimeSpan.FromSeconds(-1) },
        { "Relay:Destinations:billing:Timeout", o => o.Destinations["billing"].Timeout = TimeSpan.FromHours(1) },
        { "Relay:Destinations:billing:MaxConcurrency", o => o.Destinations["billing"].MaxConcurrency = 0 },
        { "Relay:Destinations:billing:MaxPerSecond", o => o.Destinations["billing"].MaxPerSecond = -1 },
        { "Relay:Destinations:billing:FailureThreshold", o => o.Destinations["billing"].FailureThreshold = 0 },
        { "Relay:Destinations:billing:BreakDuration", o => o.Destinations["billing"].BreakDuration = TimeSpan.Zero },
        { "Relay:Destinations:billing:NotifyOn", o => o.Destinations["billing"].NotifyOn = (NotifyOn)9 },
        { "Relay:Destinations:billing:Headers:X Key", o => o.Destinations["billing"].Headers["X Key"] = "v" },
        { "Relay:Destinations:billing:Headers:X-Key", o => o.Destinations["billing"].Headers["X-Key"] = "v\r\nX-Evil: 1" },
        { "Relay:Limits:MaxPayloadBytes", o => o.Limits.MaxPayloadBytes = 0 },
        { "Relay:Limits:MaxPayloadBytes", o => o.Limits.MaxPayloadBytes = 64 * 1024 * 1024 + 1 },
        { "Relay:Limits:MaxIdLength", o => o.Limits.MaxIdLength = 0 },
        { "Relay:Limits:MaxHeaders", o => o.Limits.MaxHeaders = -1 },
        { "Relay:Limits:MaxResponseBodyBytes", o => o.Limits.MaxResponseBodyBytes = -1 },
        { "Relay:Limits:MaxConcurrentConnections", o => o.Limits.MaxConcurrentConnections = 0 },
        { "Relay:Audit:Retention", o => o.Audit.Retention = TimeSpan.Zero },
        { "Relay:Audit:PurgeInterval", o => o.Audit.PurgeInterval = TimeSpan.FromSeconds(-1) },
        { "Relay:Retention:Delivered", o => o.Retention.Delivered = TimeSpan.Zero },
        { "Relay:Ordering:MaxDepth", o => o.Ordering.MaxDepth = 0 },
        { "Relay:Scheduler:Shards", o => o.Scheduler.Shards = 0 },
        { "Relay:Scheduler:Shards", o => o.Scheduler.Shards = 1025 },
        { "Relay:Scheduler:PollInterval", o => o.Scheduler.PollInterval = TimeSpan.Zero },
        { "Relay:Scheduler:BatchSize", o => o.Scheduler.BatchSize = 0 },
        { "Relay:Scheduler:MaxInFlight", o => o.Scheduler.MaxInFlight = 0 },
        { "Relay:Scheduler:RecoveryGrace", o => o.Scheduler.RecoveryGrace = TimeSpan.Zero },
        { "Relay:Storage:Provider", o => o.Storage.Provider = "Postgres" },
        { "Relay:Storage:Provider", o => o.Storage.Provider = "" },
        { "Relay:Storage:ConnectionString", o => o.Storage.Provider = "AdoNet" },
        { "Relay:Storage:ConnectionString", o => { o.Storage.Provider = "adonet"; o.Storage.ConnectionString = "  "; } },
        { "Relay:Storage:Invariant", o => { o.Storage.Provider = "AdoNet"; o.Storage.ConnectionString = "Host=db"; o.Storage.Invariant = ""; } },
        { "Relay:Storage:DataPath", o => o.Storage.DataPath = "" },
        { "Relay:Storage:SqliteSynchronous", o => o.Storage.SqliteSynchronous = "Fast" },
        { "Relay:Cluster:ClusterId", o => o.Cluster.ClusterId = "" },
        { "Relay:Cluster:ServiceId", o => o.Cluster.ServiceId = " " },
        { "Relay:Cluster:SiloPort", o => o.Cluster.SiloPort = 0 },
        { "Relay:Cluster:GatewayPort", o => o.Cluster.GatewayPort = 70000 },
        { "Relay:Cluster:GatewayPort", o => o.Cluster.GatewayPort = 11111 },
    };

    [Theory]
    [MemberData(nameof(Problems))]
    public void Each_problem_gives_one_line_naming_its_key(string key, Action<RelayOptions> breakIt)
    {
        var options = ContractExample();
        breakIt(options);

        var error = OnlyError(options);

        Assert.StartsWith(key, error, StringComparison.Ordinal);
        Assert.EndsWith(".", error, StringComparison.Ordinal);
    }

    public static TheoryData<Action<RelayOptions>> Accepted => new()
    {
        o => o.Destinations["billing"].Protocol = "http",
        o => o.Destinations["billing"].Protocol = "HTTP",
        o => o.Destinations["billing"].Address = "HTTPS://billing.example.com:8443/x?y=1",
        o => o.Destinations["billing"].SyncTimeout = TimeSpan.FromMinutes(5),
        o => o.Destinations["billing"].Timeout = TimeSpan.FromTicks(1),
        o => o.Destinations["billing"].MaxConcurrency = 1,
        o => o.Destinations["billing"].MaxConcurrency = null,
        o => o.Destinations["billing"].Notify = null,
        o => o.Destinations["billing"].Notify = "billing",
        o => o.Destinations["billing"].Headers["Authorization"] = "Bearer abc",
        o => o.Contracts["fast"].MaxAttempts = 1,
        o => o.Contracts["fast"].Delay = TimeSpan.Zero,
        o => o.Contracts["backoff"].MaxDelay = TimeSpan.FromSeconds(1),
        o => o.Contracts["backoff"].Jitter = 0,
        o => o.Contracts["backoff"].Jitter = 1,
        o => o.Contracts["fast"].ImmediateRetries = 0,
        o => o.Contracts["fast"].ImmediateRetries = 10,
        o => o.Contracts["A.b_c-9"] = new RetryContractOptions(),
        o => o.Contracts[new string('c', 100)] = new RetryContractOptions(),
        o => o.Limits.MaxPayloadBytes = 1,
        o => o.Limits.MaxPayloadBytes = 64 * 1024 * 1024,
        o => o.Limits.MaxConcurrentConnections = 1,
        o => o.Scheduler.Shards = 1,
        o => o.Scheduler.Shards = 1024,
        o => { o.Storage.Provider = "AdoNet"; o.Storage.ConnectionString = "Host=db;Password=secret"; o.Storage.DataPath = ""; },
        o => o.Storage.Provider = "sqlite",
        o => o.Storage.SqliteSynchronous = "normal",
        o => o.Storage.SqliteSynchronous = "Off",
        o => o.Storage.SqliteSynchronous = "Extra",
    };

    [Theory]
    [MemberData(nameof(Accepted))]
    public void Values_at_the_edges_of_the_rules_are_accepted(Action<RelayOptions> change)
    {
        var options = ContractExample();
        change(options);

        Assert.Empty(Validate(options));
    }

    [Fact]
    public void The_connection_string_is_never_printed()
    {
        var options = ContractExample();
        options.Storage.Provider = "AdoNet";
        options.Storage.ConnectionString = "Host=db;Password=hunter2";
        options.Storage.Invariant = "";

        var errors = Validate(options);

        Assert.NotEmpty(errors);
        Assert.DoesNotContain(errors, e => e.Contains("hunter2", StringComparison.Ordinal));
    }

    [Fact]
    public void Destination_header_values_and_addresses_are_never_printed()
    {
        var options = ContractExample();
        options.Destinations["billing"].Headers["X-Api-Key"] = "hunter2\n";
        options.Destinations["shipping"].Address = "not a uri with hunter3";

        var errors = Validate(options);

        Assert.Equal(2, errors.Count);
        Assert.DoesNotContain(errors, e => e.Contains("hunter", StringComparison.Ordinal));
    }

    [Fact]
    public void Known_protocols_can_be_given_and_are_compared_case_insensitively()
    {
        var options = ContractExample();
        options.Destinations["billing"].Protocol = "ldap";
        options.Destinations["billing"].Address = "ldap://directory.example.com/ou=billing";

        Assert.Empty(RelayOptionsValidator.Validate(options, [Http, Ldap]));
        Assert.StartsWith("Relay:Destinations:billing:Protocol", OnlyError(options), StringComparison.Ordinal);
    }

    [Fact]
    public void The_unknown_protocol_message_lists_the_known_ones()
    {
        var options = ContractExample();
        options.Destinations["billing"].Protocol = "Smtp";

        Assert.Equal("Relay:Destinations:billing:Protocol is 'Smtp'; it must be one of Http, Ftp.", OnlyError(options, [Http, Ftp]));
    }

    [Fact]
    public void An_Http_address_with_another_scheme_names_the_scheme()
    {
        var options = ContractExample();
        options.Destinations["billing"].Address = "ftp://127.0.0.1/bill";

        Assert.Contains("'ftp'", OnlyError(options), StringComparison.Ordinal);
    }

    // --- A protocol's own settings: its adapter's rules (Relay.Adapters.Tests), asked by the central validator ---

    private static readonly TestProtocol Strict = new("Strict", ["strict"],
        (key, destination, errors) => errors.Add($"{key}:Special is wrong for {destination.Address}."));

    private static RelayOptions WithDestination(DestinationOptions destination) =>
        new() { Destinations = { ["target"] = destination } };

    [Fact]
    public void A_protocol_s_own_rules_are_asked_with_the_destination_s_key_after_the_shared_ones()
    {
        var destination = new DestinationOptions { Protocol = "strict", Address = "strict://host/", Contract = "nope" };

        var errors = RelayOptionsValidator.Validate(WithDestination(destination), [Http, Strict]);

        Assert.Equal(
            [
                "Relay:Destinations:target:Contract names the unknown contract 'nope' (known: none configured).",
                "Relay:Destinations:target:Special is wrong for strict://host/.",
            ],
            errors);
    }

    [Fact]
    public void The_address_scheme_is_the_one_the_protocol_declares()
    {
        var destination = new DestinationOptions { Protocol = "Ftp", Address = "http://files.example.com/" };

        Assert.Equal(
            "Relay:Destinations:target:Address has the scheme 'http', which the Ftp protocol cannot call (allowed: ftp).",
            OnlyError(WithDestination(destination), [Http, Ftp]));
        destination.Address = "FTP://files.example.com/";
        Assert.Empty(RelayOptionsValidator.Validate(WithDestination(destination), [Http, Ftp]));
    }

    [Fact]
    public void The_settings_of_an_unknown_protocol_are_not_checked_beyond_the_protocol_itself()
    {
        var destination = new DestinationOptions { Protocol = "Strict", Address = "strict://host/" };

        var error = OnlyError(WithDestination(destination), [Http]);

        Assert.Equal("Relay:Destinations:target:Protocol is 'Strict'; it must be one of Http.", error);
    }
}
