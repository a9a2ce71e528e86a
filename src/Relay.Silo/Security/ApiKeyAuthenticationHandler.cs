using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Relay.Silo.Api;

namespace Relay.Silo.Security;

/// <summary>
/// Authenticates <c>X-Api-Key: key</c> or <c>Authorization: Bearer key</c> against the <see cref="ApiKeyRing"/>.
/// With no key configured everyone is <see cref="RelayPrincipal.Anonymous"/> (the silo then listens on loopback only,
/// unless told otherwise). A challenge answers 401 and a forbidden request 403, both as problem+json; neither the
/// presented key nor any configured key is ever logged.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiKeyRing keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string HeaderName = "X-Api-Key";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!keys.Enabled)
        {
            return Task.FromResult(Success(RelayPrincipal.Anonymous));
        }

        var presented = Presented(Request);
        if (presented is null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var caller = keys.Identify(presented);
        return Task.FromResult(caller is null ? AuthenticateResult.Fail("Unknown API key.") : Success(caller));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
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
