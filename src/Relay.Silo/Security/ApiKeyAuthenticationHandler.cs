using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Relay.Silo.Api;

namespace Relay.Silo.Security;

/// <summary>
/// Authenticates <c>X-Api-Key: key</c> or <c>Authorization: Bearer key</c> against the <see cref="ApiKeyRing"/>.
/// With no key configured everyone is <see cref="RelayPrincipal.Anonymous"/> (the silo then listens on loopback only,
/// unless told otherwise). A challenge answers 401 and a forbidden request 403, both as problem+json; neither the
/// presented key nor any configured key is ever logged. A wrong key counts against its client address in the
/// <see cref="FailedAuthThrottle"/>; once the address is blocked, its key attempts are answered 429.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiKeyRing keys,
    FailedAuthThrottle throttle)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string HeaderName = "X-Api-Key";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!keys.Enabled)
        {
            // Such a silo authenticates with KeylessAuthentication; this answers a handler asked directly, alike.
            return KeylessAuthentication.Authenticated;
        }

        var presented = Presented(Request);
        if (presented is null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var caller = keys.Identify(presented);
        var client = ClientAddress.Of(Context.Connection.RemoteIpAddress);
        if (throttle.Check(client, caller) is { } retryAfter)
        {
            // Refused whatever the key: a valid key answered otherwise would tell a guesser it had found one.
            return Task.FromResult(AuthenticateResult.Fail(new TooManyFailedAttempts(retryAfter)));
        }

        if (caller is null)
        {
            throttle.Failed(client);
            return Task.FromResult(AuthenticateResult.Fail("Unknown API key."));
        }

        throttle.Succeeded(client, caller);
        return Task.FromResult(Success(caller));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if ((await HandleAuthenticateOnceSafeAsync()).Failure is TooManyFailedAttempts throttled)
        {
            await TooManyFailedAttempts.WriteAsync(Context, throttled.RetryAfter);
            return;
        }

        Response.Headers.WWWAuthenticate = "Bearer";
        await WriteProblemAsync(401, Presented(Request) is null
            ? "This request needs an API key."
            : "The API key is not valid.",
            $"Send a key as '{HeaderName}: <key>' or 'Authorization: Bearer <key>'.");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        WriteProblemAsync(403, "This needs an operator key.", "A sender key may send messages and read the ones it sent.");

    /// <summary>The key a request carries, or null; an <c>Authorization</c> header of another scheme is not a key.</summary>
    internal static string? Presented(HttpRequest request)
    {
        var header = request.Headers[HeaderName];
        if (header.Count > 0)
        {
            return header.Count == 1 ? header[0] : null;
        }

        var authorization = request.Headers.Authorization;
        if (authorization.Count == 1 && authorization[0] is { } value
            && value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return value["Bearer ".Length..].Trim();
        }

        return null;
    }

    internal static bool CarriesKey(HttpRequest request) =>
        request.Headers.ContainsKey(HeaderName) || request.Headers.Authorization.Count > 0;

    private AuthenticateResult Success(RelayCaller caller) =>
        AuthenticateResult.Success(new AuthenticationTicket(RelayPrincipal.Create(caller, Scheme.Name), Scheme.Name));

    private Task WriteProblemAsync(int status, string title, string detail)
    {
        if (Response.HasStarted)
        {
            return Task.CompletedTask;
        }

        Response.StatusCode = status;
        return Problems.Of(status, title, detail).ExecuteAsync(Context);
    }
}

/// <summary>An authentication refused because its client address made too many failed attempts.</summary>
internal sealed class TooManyFailedAttempts(TimeSpan retryAfter) : Exception("Too many failed authentications from this address.")
{
    public TimeSpan RetryAfter { get; } = retryAfter;

    /// <summary>429 with <c>Retry-After</c> (whole seconds, rounded up) and a problem+json body.</summary>
    public static Task WriteAsync(HttpContext http, TimeSpan retryAfter)
    {
        if (http.Response.HasStarted)
        {
            return Task.CompletedTask;
        }

        var seconds = RetryAfterSeconds(retryAfter);
        http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        http.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Problems.Of(StatusCodes.Status429TooManyRequests, "Too many failed authentications from this address.",
            $"Try again in {seconds} s. Requests with a key that has worked from this address before are still served.").ExecuteAsync(http);
    }

    internal static long RetryAfterSeconds(TimeSpan retryAfter) => Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds));
}
