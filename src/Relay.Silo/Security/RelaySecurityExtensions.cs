using System.Net;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Relay.Silo.Security;

/// <summary>
/// Who may do what: API keys (<see cref="ApiKeyAuthenticationHandler"/>), the portal's sign-in cookie, and three
/// policies. Every endpoint needs an operator unless it says otherwise (the fallback policy): only sending, reading
/// one's own messages and the SOAP front door are open to senders, and only the portal's sign-in page and the
/// samples to anyone.
/// </summary>
public static partial class RelaySecurityExtensions
{
    /// <summary>The scheme every request is authenticated with: it forwards to the API key or the portal cookie.</summary>
    private const string SelectorScheme = "Relay";

    /// <summary>The mark <c>UseAuthentication</c> leaves on an application builder (ASP.NET Core's <c>AuthAppBuilderExtensions</c>).</summary>
    internal const string AuthenticationMiddlewareSet = "__AuthenticationMiddlewareSet";

    public static WebApplicationBuilder AddRelaySecurity(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(SecurityOptions.SectionName);
        var security = section.Get<SecurityOptions>() ?? new SecurityOptions();
        var services = builder.Services;
        services.AddOptions<SecurityOptions>().Bind(section);
        services.AddSingleton<ApiKeyRing>();
        services.AddOptions<FailedAuthOptions>().Bind(builder.Configuration.GetSection(FailedAuthOptions.SectionName));
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<FailedAuthThrottle>();
        var forwarded = builder.Configuration.GetSection(ForwardedHeadersSettings.SectionName).Get<ForwardedHeadersSettings>()?.ToOptions();
        if (forwarded is not null)
        {
            services.AddSingleton(forwarded);
        }
        services.AddHttpContextAccessor();

        services.AddAuthentication(SelectorScheme)
            .AddPolicyScheme(SelectorScheme, "API key or portal sign-in", scheme =>
            {
                scheme.ForwardDefaultSelector = http =>
                {
                    var keys = http.RequestServices.GetRequiredService<ApiKeyRing>();
                    // A request that carries a key is judged by it; a browser on the portal or the dashboard by its cookie.
                    return keys.Enabled && !ApiKeyAuthenticationHandler.CarriesKey(http.Request) && IsBrowserPath(http.Request.Path)
                        ? RelayAuth.PortalCookieScheme
                        : RelayAuth.ApiKeyScheme;
                };
            })
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(RelayAuth.ApiKeyScheme, _ => { })
            .AddCookie(RelayAuth.PortalCookieScheme, cookie =>
            {
                cookie.Cookie.Name = "relay.portal";
                cookie.Cookie.HttpOnly = true;
                cookie.Cookie.SameSite = SameSiteMode.Strict;
                // Secure whenever the request came over HTTPS, to Kestrel or, with Relay:ForwardedHeaders, to a trusted proxy.
                cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                cookie.Cookie.Path = "/";
                cookie.LoginPath = "/portal/login";
                cookie.LogoutPath = "/portal/logout";
                cookie.ReturnUrlParameter = "returnUrl";
                cookie.ExpireTimeSpan = security.PortalSessionIdle;
                cookie.SlidingExpiration = true;
                var redirectToLogin = cookie.Events.OnRedirectToLogin;
                cookie.Events.OnRedirectToLogin = context =>
                    // The OpenAPI document is read with the portal's cookie by the reference page, but it is not a
                    // page: without either, it answers as the API does (401 problem+json), not with the sign-in page.
                    context.Request.Path.StartsWithSegments(Api.ApiReference.DocumentPrefix, StringComparison.OrdinalIgnoreCase)
                        ? context.HttpContext.ChallengeAsync(RelayAuth.ApiKeyScheme)
                        : redirectToLogin(context);
                // The key behind a session is checked on every request: a key no longer configured ends its sessions.
                cookie.Events.OnValidatePrincipal = ValidatePortalSessionAsync;
                cookie.Events.OnRedirectToAccessDenied = context =>
                {
                    context.Response.StatusCode = StatusCodes.Status403Forbidden;
                    return Task.CompletedTask;
                };
            });

        services.AddAuthorizationBuilder()
            .AddPolicy(RelayAuth.SenderPolicy, policy => policy.RequireClaim(RelayAuth.RoleClaim, nameof(RelayRole.Sender), nameof(RelayRole.Operator)))
            .AddPolicy(RelayAuth.OperatorPolicy, policy => policy.RequireClaim(RelayAuth.RoleClaim, nameof(RelayRole.Operator)))
            .AddPolicy(RelayAuth.PortalPolicy, policy => policy.RequireClaim(RelayAuth.RoleClaim, nameof(RelayRole.Operator)))
            // Deny by default: whatever does not name a policy is for operators.
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireClaim(RelayAuth.RoleClaim, nameof(RelayRole.Operator)).Build());
        // ASP.NET Core's evaluator, but the anonymous operator of a silo without keys is decided once per policy.
        services.Replace(ServiceDescriptor.Singleton<IPolicyEvaluator, RelayPolicyEvaluator>());
        if (!string.IsNullOrWhiteSpace(security.DataProtectionPath))
        {
            services.AddDataProtection()
                .SetApplicationName("relay")
                .PersistKeysToFileSystem(new DirectoryInfo(Path.GetFullPath(security.DataProtectionPath)));
        }

        services.AddAntiforgery(antiforgery =>
        {
            antiforgery.Cookie.Name = "relay.antiforgery";
            antiforgery.Cookie.SameSite = SameSiteMode.Strict;
            antiforgery.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            antiforgery.FormFieldName = "__relay_csrf";
        });

        if (!security.AllowAnonymous && security.SenderKeys.Count == 0 && security.OperatorKeys.Count == 0)
        {
            ListenOnLoopbackOnly(builder);
        }

        return builder;
    }

    /// <summary>
    /// Authentication, then the SOAP front door (senders may use it), then authorization for everything else,
    /// then antiforgery for the portal's forms. Call before the SOAP front door and the endpoints are mapped.
    /// </summary>
    public static IApplicationBuilder UseRelaySecurity(this IApplicationBuilder app, Action<IApplicationBuilder> senderMiddleware)
    {
        if (app.ApplicationServices.GetService<ForwardedHeadersOptions>() is { } forwarded)
        {
            // First: everything after it judges the client's own address and scheme.
            app.UseForwardedHeaders(forwarded);
        }

        var keys = app.ApplicationServices.GetRequiredService<ApiKeyRing>();
        if (keys.Enabled)
        {
            app.UseAuthentication();
        }
        else
        {
            // Without keys: beside the loopback-only listener, a peer or a host name from elsewhere is refused, and so is
            // a browser's cross-site request that changes state; everyone else is the anonymous operator.
            app.UseMiddleware<AnonymousRequestGuard>(!keys.AllowAnonymous);
            app.UseMiddleware<KeylessAuthentication>();
            // A WebApplication whose services have authentication adds ASP.NET Core's own middleware at the very start of
            // the pipeline unless UseAuthentication was called (it leaves this mark): this stands in for it.
            app.Properties[AuthenticationMiddlewareSet] = true;
        }

        // Counted by key once authenticated; before the SOAP front door and the endpoints do any work.
        Limits.ClientLimitsExtensions.UseRelayClientLimits(app);
        // Middleware that is not an endpoint (SoapCore) runs under the sender policy, ahead of the operator fallback.
        app.UseMiddleware<RequirePolicyMiddleware>(RelayAuth.SenderPolicy, new PathString(Soap.SoapFrontDoorExtensions.Path));
        senderMiddleware(app);
        app.UseAuthorization();
        app.UseAntiforgery();
        return app;
    }

    /// <summary>
    /// A portal session holds while the key it signed in with is still configured, for the same operator: a session
    /// from before this check (no key fingerprint), or whose key was removed or changed, is signed out.
    /// </summary>
    private static async Task ValidatePortalSessionAsync(CookieValidatePrincipalContext context)
    {
        var keys = context.HttpContext.RequestServices.GetRequiredService<ApiKeyRing>();
        var session = context.Principal;
        var caller = keys.IdentifySession(session?.FindFirst(RelayAuth.KeyClaim)?.Value);
        if (caller is { Role: RelayRole.Operator } && caller.Name == session?.Caller()?.Name)
        {
            return;
        }

        Log.SessionEnded(context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Relay.Security"),
            session?.Caller()?.Name ?? "-");
        context.RejectPrincipal();
        await context.HttpContext.SignOutAsync(RelayAuth.PortalCookieScheme);
    }

    /// <summary>Logs, once the server listens, who may call it.</summary>
    public static void LogRelaySecurity(this WebApplication app)
    {
        var keys = app.Services.GetRequiredService<ApiKeyRing>();
        var security = app.Services.GetRequiredService<IOptions<SecurityOptions>>().Value;
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Relay.Security");
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var addresses = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
                .Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            var listening = string.Join(", ", addresses);
            if (keys.Enabled)
            {
                Log.KeysRequired(logger, security.SenderKeys.Count, security.OperatorKeys.Count, listening);
            }
            else if (keys.AllowAnonymous)
            {
                Log.Anonymous(logger, listening);
            }
            else
            {
                Log.LoopbackOnly(logger, listening);
            }
        });
    }

    /// <summary>
    /// Pages an operator opens in a browser, signed in to the portal: the portal, the dashboard, and the API reference
    /// (the page, and the document its script fetches with the same cookie).
    /// </summary>
    internal static bool IsBrowserPath(PathString path) =>
        path.StartsWithSegments("/portal", StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments("/dashboard", StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments(Api.ApiReference.PagePath, StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments(Api.ApiReference.DocumentPrefix, StringComparison.OrdinalIgnoreCase);

    /// <summary>Every URL the server would listen on, moved to 127.0.0.1 when its host is not a loopback one.</summary>
    private static void ListenOnLoopbackOnly(WebApplicationBuilder builder)
    {
        var urls = builder.WebHost.GetSetting(WebHostDefaults.ServerUrlsKey);
        if (string.IsNullOrWhiteSpace(urls))
        {
            // ASP.NET Core's own default, http://localhost:5000, is loopback already.
            return;
        }

        var rewritten = urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ToLoopback);
        builder.WebHost.UseUrls([.. rewritten]);
    }

    internal static string ToLoopback(string url)
    {
        var schemeEnd = url.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd < 0)
        {
            return url;
        }

        var hostStart = schemeEnd + 3;
        var rest = url[hostStart..];
        string host;
        string tail;
        if (rest.StartsWith('['))
        {
            var close = rest.IndexOf(']', StringComparison.Ordinal);
            host = close < 0 ? rest : rest[..(close + 1)];
            tail = close < 0 ? "" : rest[(close + 1)..];
        }
        else
        {
            var end = rest.IndexOfAny([':', '/']);
            host = end < 0 ? rest : rest[..end];
            tail = end < 0 ? "" : rest[end..];
        }

        var loopback = string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
        return loopback ? url : url[..hostStart] + "127.0.0.1" + tail;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4001, Level = LogLevel.Information,
            Message = "API keys required: {SenderKeys} sender key(s), {OperatorKeys} operator key(s). Listening on {Addresses}")]
        public static partial void KeysRequired(ILogger logger, int senderKeys, int operatorKeys, string addresses);

        [LoggerMessage(EventId = 4002, Level = LogLevel.Warning,
            Message = "No API key is configured and Relay:Security:AllowAnonymous is true: anyone who reaches {Addresses} may send and operate")]
        public static partial void Anonymous(ILogger logger, string addresses);

        [LoggerMessage(EventId = 4003, Level = LogLevel.Warning,
            Message = "No API key is configured: listening on loopback only ({Addresses}). Configure Relay:Security:SenderKeys and OperatorKeys, or set Relay:Security:AllowAnonymous=true to listen elsewhere without keys")]
        public static partial void LoopbackOnly(ILogger logger, string addresses);

        [LoggerMessage(EventId = 4004, Level = LogLevel.Information,
            Message = "Portal: the session of {Operator} ended, its key is no longer configured")]
        public static partial void SessionEnded(ILogger logger, string @operator);
    }
}

/// <summary>Applies one authorization policy to middleware that is not an endpoint (the SOAP front door).</summary>
internal sealed class RequirePolicyMiddleware(RequestDelegate next, string policyName, PathString path)
{
    public async Task InvokeAsync(HttpContext http, IAuthorizationPolicyProvider policies, IPolicyEvaluator evaluator)
    {
        if (!http.Request.Path.StartsWithSegments(path, StringComparison.OrdinalIgnoreCase))
        {
            await next(http);
            return;
        }

        var policy = await policies.GetPolicyAsync(policyName)
            ?? throw new InvalidOperationException($"No authorization policy '{policyName}'.");
        var authenticated = await evaluator.AuthenticateAsync(policy, http);
        var result = await evaluator.AuthorizeAsync(policy, authenticated, http, resource: null);
        if (result.Challenged)
        {
            await http.ChallengeAsync();
        }
        else if (result.Forbidden)
        {
            await http.ForbidAsync();
        }
        else
        {
            await next(http);
        }
    }
}
