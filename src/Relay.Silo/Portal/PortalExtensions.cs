using Microsoft.AspNetCore.Mvc.ApplicationParts;
using Relay.Silo.Security;

namespace Relay.Silo.Portal;

/// <summary>
/// The operator portal at <c>/portal</c>: Razor Pages in this folder (server-rendered, every value HTML-encoded,
/// antiforgery on every form), its stylesheet served by the silo itself, and strict browser headers (no script runs).
/// </summary>
public static class PortalExtensions
{
    public const string StylesheetPath = "/portal/portal.css";

    /// <summary>No script, no inline style, nothing from elsewhere, never in a frame.</summary>
    private const string ContentSecurityPolicy =
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    public static IServiceCollection AddRelayPortal(this IServiceCollection services)
    {
        services.AddRazorPages(pages =>
            {
                pages.RootDirectory = "/Portal";
                pages.Conventions.AuthorizeFolder("/", RelayAuth.PortalPolicy);
                pages.Conventions.AllowAnonymousToPage("/Login");
            })
            // The host may be built from another assembly (the tests'): name this one, with its compiled pages.
            .ConfigureApplicationPartManager(manager =>
            {
                var assembly = typeof(PortalExtensions).Assembly;
                foreach (var part in ApplicationPartFactory.GetApplicationPartFactory(assembly).GetApplicationParts(assembly))
                {
                    if (!manager.ApplicationParts.Any(p => p.GetType() == part.GetType() && p.Name == part.Name))
                    {
                        manager.ApplicationParts.Add(part);
                    }
                }
            });
        services.AddSingleton<PortalQueries>();
        return services;
    }

    public static WebApplication MapRelayPortal(this WebApplication app)
    {
        app.Use(async (http, next) =>
        {
            if (http.Request.Path.StartsWithSegments("/portal", StringComparison.OrdinalIgnoreCase))
            {
                var headers = http.Response.Headers;
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
                headers.XContentTypeOptions = "nosniff";
                headers.XFrameOptions = "DENY";
                headers["Referrer-Policy"] = "same-origin";
                if (!http.Request.Path.Equals(StylesheetPath, StringComparison.OrdinalIgnoreCase))
                {
                    // As antiforgery would set it on a page with a form (it logs a warning each time it has to change it).
                    headers.CacheControl = "no-cache, no-store";
                    headers.Pragma = "no-cache";
                }
            }

            await next(http);
        });

        var stylesheet = ReadStylesheet();
        app.MapGet(StylesheetPath, (HttpContext http) =>
        {
            http.Response.Headers.CacheControl = "public, max-age=3600";
            return Results.Text(stylesheet, "text/css; charset=utf-8");
        }).AllowAnonymous();
        app.MapRazorPages();
        return app;
    }

    private static string ReadStylesheet()
    {
        using var stream = typeof(PortalExtensions).Assembly.GetManifestResourceStream("Relay.Silo.Portal.portal.css")
            ?? throw new InvalidOperationException("The portal's stylesheet is not embedded in Relay.Silo.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
