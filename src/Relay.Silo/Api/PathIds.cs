using System.Text;
using Microsoft.AspNetCore.Http.Features;

namespace Relay.Silo.Api;

/// <summary>
/// A message id read from its segment of the URL path (<c>/messages/{id}</c>, <c>/portal/messages/{id}</c>).
/// Kestrel decodes the path except <c>%2F</c>, which it leaves encoded so that it does not become a separator; so the
/// route value is ambiguous once it holds a '%': <c>a%2Fb</c> is what both the id <c>a/b</c> (sent as <c>a%2Fb</c>)
/// and the id <c>a%2Fb</c> (sent as <c>a%252Fb</c>) arrive as. The id is therefore taken from the request target as the
/// client sent it and decoded once, completely.
/// </summary>
internal static class PathIds
{
    public static string FromRoute(HttpContext http, string routeValue)
    {
        if (!routeValue.Contains('%', StringComparison.Ordinal))
        {
            // Nothing was left encoded and no '%' was decoded: the route value is the id.
            return routeValue;
        }

        if (http.Features.Get<IHttpRequestFeature>()?.RawTarget is { Length: > 0 } target)
        {
            var query = target.IndexOf('?', StringComparison.Ordinal);
            var path = query < 0 ? target : target[..query];
            foreach (var segment in path.Split('/'))
            {
                // The segment the route value came from: the only one that reads the same as Kestrel decoded it
                // (the others of these routes are fixed words without '%').
                if (DecodeLikeKestrel(segment) == routeValue)
                {
                    return Uri.UnescapeDataString(segment);
                }
            }
        }

        // No request target to read (a server other than Kestrel): the common case, an encoded '/'.
        return routeValue.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Decodes a path segment as Kestrel does: everything but <c>%2F</c>, which stays as sent.</summary>
    private static string DecodeLikeKestrel(string segment)
    {
        var decoded = new StringBuilder(segment.Length);
        var start = 0;
        for (var i = 0; i + 2 < segment.Length; i++)
        {
            if (segment[i] == '%' && segment[i + 1] == '2' && segment[i + 2] is 'F' or 'f')
            {
                decoded.Append(Uri.UnescapeDataString(segment[start..i])).Append(segment, i, 3);
                start = i + 3;
                i += 2;
            }
        }

        return decoded.Append(Uri.UnescapeDataString(segment[start..])).ToString();
    }
}
