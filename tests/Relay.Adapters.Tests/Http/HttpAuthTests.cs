using Microsoft.Extensions.Time.Testing;
using Relay.Adapters.Http;
using Relay.Adapters.Soap;

namespace Relay.Adapters.Tests.Http;

/// <summary>
/// Basic and static Bearer credentials (<c>Auth</c>) against a real server on loopback that checks them, secrets given
/// as they are or as references to a file or an environment variable, and never in the adapter's logs.
/// </summary>
public sealed class HttpAuthTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly CapturedLogs _logs = new();
    private AuthServer _server = null!;
    private string _folder = null!;

    public async Task InitializeAsync()
    {
        _server = await AuthServer.StartAsync();
        _folder = TempFolder.Create("relay-auth-");
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    private HttpAdapter Adapter(TimeProvider? time = null) =>
        new(Options.Create(new HttpAdapterOptions()), time ?? TimeProvider.System, TestMessages.Logger<HttpAdapter>(_logs));

    private HttpDestinationOptions Basic(string password) => new()
    {
        Address = _server.Url("/basic"),
        Auth = new HttpAuthOptions { Kind = HttpAuthKind.Basic, Username = _server.BasicUser, Password = password },
    };

    [Fact]
    public async Task Basic_credentials_are_accepted_by_a_server_checking_them()
    {
        using var adapter = Adapter();

        var result = await adapter.SendAsync(TestMessages.Outbound("basic-1", "{}"), Basic(_server.BasicPassword), Timeout, CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.Success, result);
    }

    [Fact]
    public async Task Wrong_Basic_credentials_are_a_final_401_and_the_password_is_in_no_log_line()
    {
        using var adapter = Adapter();

        var result = await adapter.SendAsync(TestMessages.Outbound("basic-2", "{}"), Basic("wrong-pw-Kq4"), Timeout, CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.NonRetryableFailure, result);
        Assert.Equal(401, result.StatusCode);
        Assert.DoesNotContain("wrong-pw-Kq4", string.Join("\n", _logs.Lines), StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-pw-Kq4", result.Error ?? "", StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_static_Bearer_token_is_sent_as_Authorization()
    {
        using var adapter = Adapter();
        var destination = new HttpDestinationOptions
        {
            Address = _server.Url("/bearer"),
            Auth = new HttpAuthOptions { Kind = HttpAuthKind.Bearer, Token = _server.ClientSecret },
        };

        var result = await adapter.SendAsync(TestMessages.Outbound("bearer-1", "{}"), destination, Timeout, CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.Success, result);
    }

    [Fact]
    public async Task A_password_read_from_a_file_is_read_again_when_the_file_is_rotated()
    {
        var file = Path.Combine(_folder, "password");
        await File.WriteAllTextAsync(file, "old-password\n");
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var adapter = Adapter(time);
        var destination = Basic("${file:" + file + "}");

        var before = await adapter.SendAsync(TestMessages.Outbound("file-1", "{}"), destination, Timeout, CancellationToken.None);
        await File.WriteAllTextAsync(file, _server.BasicPassword + "\n");
        var cached = await adapter.SendAsync(TestMessages.Outbound("file-2", "{}"), destination, Timeout, CancellationToken.None);
        time.Advance(SecretReader.RereadInterval);
        var after = await adapter.SendAsync(TestMessages.Outbound("file-3", "{}"), destination, Timeout, CancellationToken.None);

        Assert.Equal(401, before.StatusCode);
        Assert.Equal(401, cached.StatusCode);
        AssertAttempt.Outcome(AttemptOutcome.Success, after);
    }

    [Fact]
    public async Task A_token_read_from_an_environment_variable_is_sent()
    {
        var variable = "RELAY_TEST_TOKEN_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        Environment.SetEnvironmentVariable(variable, _server.ClientSecret);
        try
        {
            using var adapter = Adapter();
            var destination = new HttpDestinationOptions
            {
                Address = _server.Url("/bearer"),
                Auth = new HttpAuthOptions { Kind = HttpAuthKind.Bearer, Token = "${env:" + variable + "}" },
            };

            var result = await adapter.SendAsync(TestMessages.Outbound("env-1", "{}"), destination, Timeout, CancellationToken.None);

            AssertAttempt.Outcome(AttemptOutcome.Success, result);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public async Task A_secret_file_gone_since_start_is_a_retryable_failure_naming_the_setting_not_the_secret()
    {
        using var adapter = Adapter();
        var destination = Basic("${file:" + Path.Combine(_folder, "missing") + "}");

        var result = await adapter.SendAsync(TestMessages.Outbound("gone-1", "{}"), destination, Timeout, CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.RetryableFailure, result);
        Assert.StartsWith("Relay:Destinations:target:Auth:Password refers to the file '", result.Error, StringComparison.Ordinal);
        Assert.Empty(_server.ApiAuthorizations);
    }

    [Fact]
    public async Task A_SOAP_destination_takes_Basic_credentials_too()
    {
        using var adapter = new SoapAdapter(Options.Create(new SoapAdapterOptions()), TimeProvider.System, TestMessages.Logger<SoapAdapter>(_logs));
        var destination = new SoapDestinationOptions
        {
            Protocol = "Soap",
            Address = _server.Url("/basic"),
            Auth = new HttpAuthOptions { Kind = HttpAuthKind.Basic, Username = _server.BasicUser, Password = _server.BasicPassword },
        };

        var result = await adapter.SendAsync(TestMessages.Outbound("soap-basic", "<order/>"), destination, Timeout, CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.Success, result);
    }
}
