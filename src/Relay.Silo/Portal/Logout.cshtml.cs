using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Relay.Silo.Security;

namespace Relay.Silo.Portal;

/// <summary><c>POST /portal/logout</c>: ends the portal sign-in (a POST, with the antiforgery token, so no link can sign one out).</summary>
public sealed class LogoutModel(ILogger<LogoutModel> logger) : PortalPageModel(logger)
{
    public IActionResult OnGet() => LocalRedirect("/portal");

    public async Task<IActionResult> OnPostAsync()
    {
        await HttpContext.SignOutAsync(RelayAuth.PortalCookieScheme);
        return LocalRedirect("/portal/login");
    }
}
