using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Relay.Silo.Security;

namespace Relay.Silo.Portal;

/// <summary>
/// <c>/portal/login</c>: an operator key becomes the portal's sign-in cookie, with the claims the API key handler gives
/// (the key's name and role). Without keys configured there is nothing to sign in to: everyone is the operator
/// "anonymous" (the silo then listens on loopback only, or was told to allow anonymous callers). A wrong key counts
/// against the client address as a wrong API key does (<see cref="FailedAuthThrottle"/>): once blocked, the page
/// answers 429 with <c>Retry-After</c>. The session keeps the key's fingerprint, checked on every request.
/// </summary>
public sealed partial class LoginModel(ApiKeyRing keys, FailedAuthThrottle throttle, ILogger<LoginModel> logger) : PortalPageModel(logger)
{
    private readonly ILogger<LoginModel> _logger = logger;

    public string ReturnUrl { get; private set; } = "/portal";

    public IActionResult OnGet(string? returnUrl)
    {
        ReturnUrl = LocalOrPortal(returnUrl);
        return keys.Enabled ? Page() : LocalRedirect(ReturnUrl);
    }

    public async Task<IActionResult> OnPostAsync(string? key, string? returnUrl)
    {
        ReturnUrl = LocalOrPortal(returnUrl);
        if (!keys.Enabled)
        {
            return LocalRedirect(ReturnUrl);
        }

        var caller = keys.Identify(key);
        var client = ClientAddress.Of(HttpContext.Connection.RemoteIpAddress);
        if (!string.IsNullOrEmpty(key) && throttle.Check(client, caller) is { } retryAfter)
        {
            var seconds = TooManyFailedAttempts.RetryAfterSeconds(retryAfter);
            Error = $"Too many failed sign-ins from your address. Try again in {seconds} s.";
            Response.StatusCode = StatusCodes.Status429TooManyRequests;
            Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Page();
        }

        if (caller is null)
        {
            if (!string.IsNullOrEmpty(key))
            {
                // An empty form is no guess.
                throttle.Failed(client);
            }

            Log.Refused(_logger, HttpContext.Connection.RemoteIpAddress?.ToString() ?? "-");
            Error = "That key is not valid.";
            Response.StatusCode = StatusCodes.Status401Unauthorized;
            return Page();
        }

        throttle.Succeeded(client, caller);
        if (caller.Role != RelayRole.Operator)
        {
            Log.SenderRefused(_logger, caller.Name);
            Error = "That is a sender key. The portal needs an operator key.";
            Response.StatusCode = StatusCodes.Status403Forbidden;
            return Page();
        }

        var principal = RelayPrincipal.Create(caller, RelayAuth.PortalCookieScheme);
        ((System.Security.Claims.ClaimsIdentity)principal.Identity!).AddClaim(new System.Security.Claims.Claim(RelayAuth.KeyClaim, keys.Fingerprint(key)!));
        await HttpContext.SignInAsync(RelayAuth.PortalCookieScheme, principal, new AuthenticationProperties { IsPersistent = false });
        Log.SignedIn(_logger, caller.Name);
        return LocalRedirect(ReturnUrl);
    }

    private string LocalOrPortal(string? returnUrl) =>
        !string.IsNullOrEmpty(returnUrl) && Url.IsLocalUrl(returnUrl) && RelaySecurityExtensions.IsBrowserPath(new PathString(returnUrl.Split('?')[0]))
            ? returnUrl
            : "/portal";

    private static partial class Log
    {
        [LoggerMessage(EventId = 4111, Level = LogLevel.Information, Message = "Portal: operator {Operator} signed in")]
        public static partial void SignedIn(ILogger logger, string @operator);

        [LoggerMessage(EventId = 4112, Level = LogLevel.Warning, Message = "Portal: sign-in with an unknown key from {Remote}")]
        public static partial void Refused(ILogger logger, string remote);

        [LoggerMessage(EventId = 4113, Level = LogLevel.Warning, Message = "Portal: sender key {Sender} tried to sign in")]
        public static partial void SenderRefused(ILogger logger, string sender);
    }
}
