using Microsoft.Extensions.Time.Testing;
using Relay.Adapters.Http;
using Relay.Core.Delivery;

namespace Relay.Adapters.Tests.Http;

/// <summary>
/// OAuth 2.0 client credentials (<c>Auth:Kind OAuth2ClientCredentials</c>) against a real authorization server and API
/// on loopback: one token per expiry whatever the traffic, a revoked token renewed within the attempt, a token endpoint
/// that is down (retryable) or that refuses the client (the destination held, then released when it gives tokens again).
/// </summary>
public sealed class OAuthClientCredentialsTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private readonly CapturedLogs _logs = new();
    private AuthServer _server = null!;

    public async Task InitializeAsync() => _server = await AuthServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private HttpAdapter Adapter(TimeProvider time, DestinationFaults? faults = null) =>
        new(Options.Create(new HttpAdapterOptions()), time, TestMessages.Logger<HttpAdapter>(_logs), faults);

    private HttpDestinationOptions Destination(string? secret = null) => new()
    {
        Address = _server.Url("/api"),
        Auth = new HttpAuthOptions
        {
            Kind = HttpAuthKind.OAuth2ClientCredentials,
            TokenUrl = _server.Url("/token"),
            ClientId = _server.ClientId,
            ClientSecret = secret ?? _server.ClientSecret,
            Scope = "orders:write",
            Audience = "https://partner.example/api",
        },
    };

    private static Task<AttemptResult[]> SendManyAsync(HttpAdapter adapter, HttpDestinationOptions destination, int count, string prefix) =>
        Task.WhenAll(Enumerable.Range(0, count).Select(i =>
            adapter.SendAsync(TestMessages.Outbound($"{prefix}-{i}", "{}"), destination, Timeout, CancellationToken.None)));

    [Fact]
    public async Task Five_hundred_concurrent_messages_fetch_one_token_and_a_new_one_only_once_it_nears_expiry()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var adapter = Adapter(time);
        var destination = Destination();

        var first = await SendManyAsync(adapter, destination, 500, "a");
        Assert.All(first, r => AssertAttempt.Outcome(AttemptOutcome.Success, r));
        Assert.Equal(1, _server.TokenRequests);

        time.Advance(TimeSpan.FromMinutes(50));
        var later = await SendManyAsync(adapter, destination, 500, "b");
        Assert.All(later, r => AssertAttempt.Outcome(AttemptOutcome.Success, r));
        Assert.Equal(1, _server.TokenRequests);

        // Past its expiry (an hour): one new token for all of them.
        time.Advance(TimeSpan.FromMinutes(11));
        var expired = await SendManyAsync(adapter, destination, 500, "c");
        Assert.All(expired, r => AssertAttempt.Outcome(AttemptOutcome.Success, r));
        Assert.Equal(2, _server.TokenRequests);

        var request = _server.TokenRequestForms[0];
        Assert.Equal("client_credentials", request["grant_type"]);
        Assert.Equal("orders:write", request["scope"]);
        Assert.Equal("https://partner.example/api", request["audience"]);
        Assert.DoesNotContain(_logs.Lines, line => line.Contains(_server.ClientSecret, StringComparison.Ordinal) || line.Contains("token-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_token_near_its_expiry_is_renewed_in_the_background_while_it_is_still_used()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var adapter = Adapter(time);
        var destination = Destination();
        AssertAttempt.Outcome(AttemptOutcome.Success, await adapter.SendAsync(TestMessages.Outbound("r-1", "{}"), destination, Timeout, CancellationToken.None));

        // Within the last minute of its hour: used, and renewed meanwhile.
        time.Advance(TimeSpan.FromMinutes(59.5));
        AssertAttempt.Outcome(AttemptOutcome.Success, await adapter.SendAsync(TestMessages.Outbound("r-2", "{}"), destination, Timeout, CancellationToken.None));

        await Eventually.Until(() => _server.TokenRequests == 2, what: "the token renewed in the background");
        Assert.Equal(_server.ApiAuthorizations[0], _server.ApiAuthorizations[1]);
    }

    [Fact]
    public async Task A_revoked_token_gets_401_then_a_new_token_and_the_try_is_repeated_at_once_in_the_same_attempt()
    {
        using var adapter = Adapter(TimeProvider.System);
        var destination = Destination();
        AssertAttempt.Outcome(AttemptOutcome.Success, await adapter.SendAsync(TestMessages.Outbound("v-1", "{}"), destination, Timeout, CancellationToken.None));
        _server.RevokeAll();

        var results = await SendManyAsync(adapter, destination, 50, "v");

        Assert.All(results, r => AssertAttempt.Outcome(AttemptOutcome.Success, r));
        Assert.Equal(2, _server.TokenRequests);
        var repeated = Assert.Single(results.Select(r => r.Repeated).Distinct().Where(r => r is not null).Take(1));
        Assert.Equal(401, repeated!.Result.StatusCode);
        Assert.Equal(AttemptOutcome.RetryableFailure, repeated.Result.Outcome);
        Assert.Contains("the OAuth token was renewed and the try repeated at once", repeated.Result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_401_to_a_token_fetched_for_that_very_try_is_final_and_not_repeated()
    {
        using var adapter = Adapter(TimeProvider.System);
        var destination = Destination();
        destination.Address = _server.Url("/basic");

        var result = await adapter.SendAsync(TestMessages.Outbound("f-1", "{}"), destination, Timeout, CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.NonRetryableFailure, result);
        Assert.Null(result.Repeated);
        Assert.Equal(1, _server.TokenRequests);
    }

    [Fact]
    public async Task A_token_endpoint_that_is_down_is_a_retryable_failure_and_nothing_is_sent()
    {
        _server.Mode = TokenEndpointMode.Down;
        var faults = new DestinationFaults();
        using var adapter = Adapter(TimeProvider.System, faults);

        var result = await adapter.SendAsync(TestMessages.Outbound("d-1", "{}"), Destination(), Timeout, CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.RetryableFailure, result);
        Assert.Equal("Token endpoint answered 503 Service Unavailable", result.Error);
        Assert.Empty(_server.ApiAuthorizations);
        Assert.Empty(faults.Current);
    }

    [Fact]
    public async Task A_token_endpoint_that_does_not_answer_is_a_retryable_failure()
    {
        using var adapter = Adapter(TimeProvider.System);
        var destination = Destination();
        destination.Auth.TokenUrl = $"http://127.0.0.1:{Ports.Free()}/token";

        var result = await adapter.SendAsync(TestMessages.Outbound("n-1", "{}"), destination, Timeout, CancellationToken.None);

        AssertAttempt.Outcome(AttemptOutcome.RetryableFailure, result);
        Assert.Equal("Token endpoint: Connection refused", result.Error);
    }

    [Fact]
    public async Task A_client_the_token_endpoint_refuses_holds_the_destination_until_a_rotated_secret_gives_a_token()
    {
        var folder = TempFolder.Create("relay-oauth-");
        var secretFile = Path.Combine(folder, "client-secret");
        await File.WriteAllTextAsync(secretFile, "revoked-secret-Mm2\n");
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var faults = new DestinationFaults();
        using var adapter = Adapter(time, faults);
        var destination = Destination("${file:" + secretFile + "}");

        var results = await SendManyAsync(adapter, destination, 20, "x");

        Assert.All(results, r => AssertAttempt.Outcome(AttemptOutcome.RetryableFailure, r));
        Assert.Equal(1, _server.TokenRequests);
        var problem = Assert.Single(faults.Current);
        Assert.Equal("target", problem.Key);
        Assert.StartsWith("The token endpoint refused the client (400 invalid_client): a configuration error.", problem.Value, StringComparison.Ordinal);
        Assert.DoesNotContain("revoked-secret-Mm2", problem.Value, StringComparison.Ordinal);
        // Held: the next attempt asks no one.
        AssertAttempt.Outcome(AttemptOutcome.RetryableFailure, await adapter.SendAsync(TestMessages.Outbound("x-held", "{}"), destination, Timeout, CancellationToken.None));
        Assert.Equal(1, _server.TokenRequests);

        // The secret rotated in its file: the probe reads it and the destination is released.
        await File.WriteAllTextAsync(secretFile, _server.ClientSecret + "\n");
        time.Advance(OAuthTokens.ProbeInterval);
        await Eventually.Until(() => faults.Current.Count == 0, what: "the destination released");
        Assert.Equal(2, _server.TokenRequests);
        AssertAttempt.Outcome(AttemptOutcome.Success, await adapter.SendAsync(TestMessages.Outbound("x-after", "{}"), destination, Timeout, CancellationToken.None));
        Assert.Equal(2, _server.TokenRequests);
        Assert.DoesNotContain(_logs.Lines, line => line.Contains("revoked-secret-Mm2", StringComparison.Ordinal) || line.Contains(_server.ClientSecret, StringComparison.Ordinal));
        Directory.Delete(folder, recursive: true);
    }
}
