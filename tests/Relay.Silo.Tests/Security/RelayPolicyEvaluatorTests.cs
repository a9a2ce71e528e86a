using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Relay.Silo.Security;

namespace Relay.Silo.Tests.Security;

/// <summary>
/// <see cref="RelayPolicyEvaluator"/> over ASP.NET Core's own authorization services: the anonymous operator of a silo
/// without keys is decided once per policy that looks at the caller alone; everything else is evaluated on every
/// request, as ASP.NET Core's evaluator does.
/// </summary>
public sealed class RelayPolicyEvaluatorTests
{
    private static readonly AuthorizationPolicy Sender =
        new AuthorizationPolicyBuilder().RequireClaim(RelayAuth.RoleClaim, nameof(RelayRole.Sender), nameof(RelayRole.Operator)).Build();

    [Fact]
    public async Task A_caller_only_policy_is_decided_once_for_the_anonymous_operator()
    {
        var (evaluator, services, handler) = Build();

        var first = await AuthorizeAsync(evaluator, services, Sender, RelayPrincipal.AnonymousUser);
        var second = await AuthorizeAsync(evaluator, services, Sender, RelayPrincipal.AnonymousUser);

        Assert.True(first.Succeeded);
        Assert.True(second.Succeeded);
        Assert.Equal(1, handler.Calls);
    }

    [Fact]
    public async Task A_policy_that_looks_at_the_request_is_evaluated_every_time()
    {
        var (evaluator, services, handler) = Build();
        var policy = new AuthorizationPolicyBuilder().AddRequirements(new RequestRequirement()).Build();

        handler.Allow = true;
        Assert.True((await AuthorizeAsync(evaluator, services, policy, RelayPrincipal.AnonymousUser)).Succeeded);
        handler.Allow = false;
        Assert.False((await AuthorizeAsync(evaluator, services, policy, RelayPrincipal.AnonymousUser)).Succeeded);
        Assert.Equal(2, handler.Calls);
    }

    [Fact]
    public async Task A_caller_with_a_key_is_evaluated_every_time()
    {
        var (evaluator, services, handler) = Build();
        var sender = RelayPrincipal.Create(new RelayCaller("shop", RelayRole.Sender), RelayAuth.ApiKeyScheme);
        var scraper = RelayPrincipal.Create(new RelayCaller("prometheus", RelayRole.Scraper), RelayAuth.ApiKeyScheme);

        Assert.True((await AuthorizeAsync(evaluator, services, Sender, sender)).Succeeded);
        Assert.False((await AuthorizeAsync(evaluator, services, Sender, scraper)).Succeeded);
        Assert.True((await AuthorizeAsync(evaluator, services, Sender, sender)).Succeeded);
        Assert.Equal(3, handler.Calls);
    }

    [Fact]
    public async Task A_refusal_is_not_kept()
    {
        var (evaluator, services, handler) = Build();
        var nobody = new AuthorizationPolicyBuilder().RequireClaim(RelayAuth.RoleClaim, "nobody").Build();

        Assert.True((await AuthorizeAsync(evaluator, services, nobody, RelayPrincipal.AnonymousUser)).Forbidden);
        Assert.True((await AuthorizeAsync(evaluator, services, nobody, RelayPrincipal.AnonymousUser)).Forbidden);
        Assert.Equal(2, handler.Calls);
    }

    [Fact]
    public async Task The_anonymous_operator_authenticates_without_a_scheme_and_a_policy_with_schemes_asks_them()
    {
        var (evaluator, services, _) = Build();
        var http = new DefaultHttpContext { RequestServices = services, User = RelayPrincipal.AnonymousUser };

        var anonymous = await evaluator.AuthenticateAsync(Sender, http);
        Assert.True(anonymous.Succeeded);
        Assert.Same(RelayPrincipal.AnonymousUser, anonymous.Principal);

        // A policy naming a scheme is ASP.NET Core's to authenticate: the test's services have no such scheme.
        var withScheme = new AuthorizationPolicyBuilder(Sender).AddAuthenticationSchemes("Other").Build();
        await Assert.ThrowsAsync<InvalidOperationException>(() => evaluator.AuthenticateAsync(withScheme, http));
    }

    [Fact]
    public void Relay_s_role_policies_look_at_the_caller_only_and_metrics_access_does_not()
    {
        Assert.True(RelayPolicyEvaluator.LooksAtCallerOnly(Sender));
        Assert.True(RelayPolicyEvaluator.LooksAtCallerOnly(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().RequireRole("x").Build()));
        Assert.False(RelayPolicyEvaluator.LooksAtCallerOnly(new AuthorizationPolicyBuilder().AddRequirements(new Relay.Silo.Telemetry.MetricsAccessRequirement()).Build()));
    }

    private static (RelayPolicyEvaluator Evaluator, IServiceProvider Services, CountingHandler Handler) Build()
    {
        var handler = new CountingHandler();
        var services = new ServiceCollection().AddLogging().AddAuthorization().AddSingleton<IAuthorizationHandler>(handler).BuildServiceProvider();
        return (new RelayPolicyEvaluator(), services, handler);
    }

    private static async Task<Microsoft.AspNetCore.Authorization.Policy.PolicyAuthorizationResult> AuthorizeAsync(
        RelayPolicyEvaluator evaluator, IServiceProvider services, AuthorizationPolicy policy, ClaimsPrincipal user)
    {
        var http = new DefaultHttpContext { RequestServices = services, User = user };
        var authenticated = AuthenticateResult.Success(new AuthenticationTicket(user, RelayAuth.ApiKeyScheme));
        return await evaluator.AuthorizeAsync(policy, authenticated, http, http);
    }

    private sealed class RequestRequirement : IAuthorizationRequirement;

    /// <summary>Counts every evaluation (it runs for every policy); decides <see cref="RequestRequirement"/> by <see cref="Allow"/>.</summary>
    private sealed class CountingHandler : IAuthorizationHandler
    {
        public int Calls;

        public bool Allow { get; set; }

        public Task HandleAsync(AuthorizationHandlerContext context)
        {
            Interlocked.Increment(ref Calls);
            foreach (var requirement in context.PendingRequirements.OfType<RequestRequirement>().ToList())
            {
                if (Allow)
                {
                    context.Succeed(requirement);
                }
            }

            return Task.CompletedTask;
        }
    }
}
