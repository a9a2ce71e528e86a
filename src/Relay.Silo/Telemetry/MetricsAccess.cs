using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Relay.Silo.Security;

namespace Relay.Silo.Telemetry;

/// <summary>Who may read <c>/metrics</c>: an operator, the scrape key (<see cref="RelayRole.Scraper"/>), or a caller from an allowed network.</summary>
internal sealed class MetricsAccessRequirement : IAuthorizationRequirement;

/// <summary>Decides <see cref="MetricsAccessRequirement"/>; a caller it does not allow gets 401 without a key, 403 with another one.</summary>
internal sealed class MetricsAccessHandler(IOptions<MetricsOptions> options) : AuthorizationHandler<MetricsAccessRequirement>
{
    private readonly IReadOnlyList<System.Net.IPNetwork> _networks = options.Value.Networks();

    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, MetricsAccessRequirement requirement)
    {
        var allowed = context.User.HasClaim(RelayAuth.RoleClaim, nameof(RelayRole.Operator))
            || context.User.HasClaim(RelayAuth.RoleClaim, nameof(RelayRole.Scraper))
            || (context.Resource is HttpContext http && MetricsOptions.Allows(_networks, http.Connection.RemoteIpAddress));
        if (allowed)
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}
