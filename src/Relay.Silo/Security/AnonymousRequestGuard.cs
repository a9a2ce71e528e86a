using System.Net;
using Relay.Silo.Api;

namespace Relay.Silo.Security;

/// <summary>
/// Without API keys, being able to reach the silo is the only credential, and every browser on the machine can reach
/// it on behalf of any web page it shows. This guard keeps such pages out:
/// <list type="bullet">
/// <item>in loopback-only mode, a peer that is not on loopback is refused (403), and so is a request for a host name
/// that is not a loopback one (400): a page of <c>evil.example</c> whose name was re-pointed at 127.0.0.1 (DNS
/// rebinding) would otherwise read and act as the page's own origin;</item>
/// <item>in every mode without keys, a browser's cross-site request that may change state (any method but GET, HEAD,
/// OPTIONS, TRACE) is refused (403): <c>Sec-Fetch-Site</c> other than <c>same-origin</c> or <c>none</c>, or else an
/// <c>Origin</c> that is not the request's own host. A form post or a no-cors fetch needs no CORS permission, so
/// neither a body-less <c>POST /destinations/x/pause</c> nor a <c>text/plain</c> send could otherwise be told from the
/// operator's own. Clients that are not browsers send neither header and are not affected; the portal's own forms are
/// same-origin.</item>
/// </list>
/// With keys, a browser cannot add <c>X-Api-Key</c> cross-site without CORS, and the portal's cookie is SameSite=Strict
/// with antiforgery tokens: nothing here is needed.
/// </summary>
internal sealed class AnonymousRequestGuard(RequestDelegate next, bool loopbackOnly)
{
    public Task InvokeAsync(HttpContext http)
    {
        if (loopbackOnly)
        {
            if (http.Connection.RemoteIpAddress is { } remote && !IPAddress.IsLoopback(remote))
            {
                return RefuseAsync(http, StatusCodes.Status403Forbidden, "This silo serves only its own machine.",
                    "No API key is configured, so it listens on loopback only. Configure Relay:Security keys to serve other machines.");
            }

            if (!IsLoopbackHost(http.Request.Host))
            {
                return RefuseAsync(http, StatusCodes.Status400BadRequest, "This silo answers only to a loopback host name (localhost, 127.0.0.1, [::1]).",
                    "No API key is configured: a request for another host name, such as a web page whose name now points at this machine, is refused.");
            }
        }

        if (!IsSafeMethod(http.Request.Method) && IsCrossSiteBrowserRequest(http.Request))
        {
            return RefuseAsync(http, StatusCodes.Status403Forbidden, "A web page of another site cannot change anything here.",
                "No API key is configured: a browser request that changes state must come from the silo's own pages (Sec-Fetch-Site: same-origin, or an Origin of this host).");
        }

        return next(http);
    }

    internal static bool IsLoopbackHost(HostString host)
    {
        var name = host.Host;
        if (string.Equals(name, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        // Only an address literal: a browser connects to it as written, no DNS answer can re-point it.
        return name.Length > 0 && IPAddress.TryParse(name.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address);
    }

    /// <summary>The rule of Go's <c>net/http.CrossOriginProtection</c>: Sec-Fetch-Site first, then Origin against Host.</summary>
    internal static bool IsCrossSiteBrowserRequest(HttpRequest request)
    {
        var fetchSite = request.Headers["Sec-Fetch-Site"];
        if (fetchSite.Count > 0)
        {
            // "none": typed by the user or a bookmark; "same-origin": the silo's own page.
            return fetchSite.Count != 1 || fetchSite[0] is not ("same-origin" or "none");
        }

        var origin = request.Headers.Origin;
        if (origin.Count == 0)
        {
            // Not a browser (curl, an HttpClient), or a browser too old to say; such a browser still sends Origin on a POST.
            return false;
        }

        return origin.Count != 1 || !Uri.TryCreate(origin[0], UriKind.Absolute, out var uri)
            || !string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase);
    }

    private static bool IsSafeMethod(string method) =>
        HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) || HttpMethods.IsTrace(method);

    private static Task RefuseAsync(HttpContext http, int status, string title, string detail) =>
        Problems.Of(status, title, detail).ExecuteAsync(http);
}
