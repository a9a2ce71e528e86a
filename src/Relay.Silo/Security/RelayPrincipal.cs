using System.Security.Claims;

namespace Relay.Silo.Security;

/// <summary>The <see cref="ClaimsPrincipal"/> of a <see cref="RelayCaller"/>: its name and its role as claims.</summary>
public static class RelayPrincipal
{
    /// <summary>Everyone, when no key is configured: allowed everything, named "anonymous" in the audit.</summary>
    public static readonly RelayCaller Anonymous = new("anonymous", RelayRole.Operator);

    /// <summary>
    /// The principal of every request to a silo without keys (<see cref="KeylessAuthentication"/>), authenticated by the
    /// API key scheme as before: one for all requests, as nothing in Relay or ASP.NET Core changes an authenticated
    /// principal (no claims transformation is registered).
    /// </summary>
    internal static readonly ClaimsPrincipal AnonymousUser = Create(Anonymous, RelayAuth.ApiKeyScheme);

    public static ClaimsPrincipal Create(RelayCaller caller, string scheme) =>
        new(new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, caller.Name), new Claim(RelayAuth.RoleClaim, caller.Role.ToString())],
            scheme, ClaimTypes.Name, RelayAuth.RoleClaim));

    /// <summary>The caller of a principal made by <see cref="Create"/>, or <c>null</c>.</summary>
    public static RelayCaller? Caller(this ClaimsPrincipal principal)
    {
        if (ReferenceEquals(principal, AnonymousUser))
        {
            return Anonymous;
        }

        var name = principal.FindFirst(ClaimTypes.Name)?.Value;
        var role = principal.FindFirst(RelayAuth.RoleClaim)?.Value;
        return name is not null && Enum.TryParse<RelayRole>(role, out var parsed) ? new RelayCaller(name, parsed) : null;
    }
}
