using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.AspNetCore.Authorization.Policy;

namespace Relay.Silo.Security;

/// <summary>
/// Authentication of a silo without keys, in place of ASP.NET Core's: every request is the same anonymous operator
/// (<see cref="RelayPrincipal.AnonymousUser"/>), which the API key handler would answer too, after a handler
/// provider, the forwarding policy scheme and two handler instances had been made for the request (about 2.7 KB per
/// message, issue 14). Whether a silo has keys is decided at start-up (<see cref="ApiKeyRing"/> refuses a reload that
/// would switch them on), so is this middleware's place in the pipeline.
/// </summary>
internal sealed class KeylessAuthentication(RequestDelegate next)
{
    /// <summary>What authenticating the anonymous operator answers, for whoever asks (a policy, the API key handler).</summary>
    internal static readonly Task<AuthenticateResult> Authenticated = Task.FromResult(
        AuthenticateResult.Success(new AuthenticationTicket(RelayPrincipal.AnonymousUser, RelayAuth.ApiKeyScheme)));

    public Task InvokeAsync(HttpContext http)
    {
        http.User = RelayPrincipal.AnonymousUser;
        return next(http);
    }
}

/// <summary>
/// The policy evaluator: ASP.NET Core's, except for the anonymous operator of a silo without keys
/// (<see cref="KeylessAuthentication"/>). That caller never changes, so a policy whose requirements look at the caller
/// alone (claims, roles, name, an authenticated user: Relay's sender, operator and portal policies) always gets the
/// same answer: it is decided once, by ASP.NET Core's own evaluator, and a success is kept for the next requests. A
/// policy with any other requirement (metrics access looks at the client's address) or with authentication schemes of
/// its own is evaluated on every request, as is every request of a silo with keys.
/// </summary>
internal sealed class RelayPolicyEvaluator : IPolicyEvaluator
{
    private readonly ConditionalWeakTable<AuthorizationPolicy, Task<PolicyAuthorizationResult>> _granted = [];

    public Task<AuthenticateResult> AuthenticateAsync(AuthorizationPolicy policy, HttpContext context) =>
        IsKeyless(policy, context) ? KeylessAuthentication.Authenticated : Standard(context).AuthenticateAsync(policy, context);

    public Task<PolicyAuthorizationResult> AuthorizeAsync(
        AuthorizationPolicy policy, AuthenticateResult authenticationResult, HttpContext context, object? resource)
    {
        if (!IsKeyless(policy, context) || !LooksAtCallerOnly(policy))
        {
            return Standard(context).AuthorizeAsync(policy, authenticationResult, context, resource);
        }

        return _granted.TryGetValue(policy, out var granted) ? granted : DecideAsync(policy, authenticationResult, context, resource);
    }

    private async Task<PolicyAuthorizationResult> DecideAsync(
        AuthorizationPolicy policy, AuthenticateResult authenticationResult, HttpContext context, object? resource)
    {
        var result = await Standard(context).AuthorizeAsync(policy, authenticationResult, context, resource);
        if (result.Succeeded)
        {
            _granted.TryAdd(policy, Task.FromResult(result));
        }

        return result;
    }

    /// <summary>The anonymous operator of a silo without keys, under a policy that authenticates with the request's own user.</summary>
    private static bool IsKeyless(AuthorizationPolicy policy, HttpContext context) =>
        ReferenceEquals(context.User, RelayPrincipal.AnonymousUser) && policy.AuthenticationSchemes.Count == 0;

    internal static bool LooksAtCallerOnly(AuthorizationPolicy policy)
    {
        foreach (var requirement in policy.Requirements)
        {
            if (requirement is not (ClaimsAuthorizationRequirement or RolesAuthorizationRequirement
                or NameAuthorizationRequirement or DenyAnonymousAuthorizationRequirement))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>ASP.NET Core's evaluator, over the request's own authorization service (its handlers may be scoped).</summary>
    private static PolicyEvaluator Standard(HttpContext context) =>
        new(context.RequestServices.GetRequiredService<IAuthorizationService>());
}
