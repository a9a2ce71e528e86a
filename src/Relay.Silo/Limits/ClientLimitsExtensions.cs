using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Relay.Silo.Api;
using Relay.Silo.Security;

namespace Relay.Silo.Limits;

/// <summary>
/// Per-client limits (<see cref="ClientLimitOptions"/>): connections per address, counted by Kestrel connection
/// middleware (<see cref="ClientConnections"/>), and requests per client, by ASP.NET Core's rate limiter with one
/// token bucket per client: the key's name when the request authenticated with a key or a portal session, else the
/// address. Both answer 429 with <c>Retry-After</c> and problem+json.
/// </summary>
public static class ClientLimitsExtensions
{
    public static WebApplicationBuilder AddRelayClientLimits(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(ClientLimitOptions.SectionName).Get<ClientLimitOptions>() ?? new ClientLimitOptions();
        var services = builder.Services;
        services.AddSingleton(provider => new ClientConnections(options.Connections, provider.GetService<ForwardedHeadersOptions>(),
            provider.GetRequiredService<TimeProvider>(), provider.GetRequiredService<ILogger<ClientConnections>>()));
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureEndpointDefaults(listen =>
        {
            var connections = listen.ApplicationServices.GetRequiredService<ClientConnections>();
            listen.Use(next => connection => connections.OnConnectionAsync(connection, next));
        }));

        var bucket = options.ToBucket();
        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
                RateLimitPartition.GetTokenBucketLimiter(PartitionOf(http), _ => bucket));
            limiter.OnRejected = (context, _) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : options.Window;
                return new ValueTask(WriteTooManyAsync(context.HttpContext, retryAfter, "Too many requests from this client.",
                    $"A client may make {options.Requests} requests per {options.Window} (Relay:Limits:PerClient)."));
            };
        });
        return builder;
    }

    /// <summary>After authentication (a request is counted by its key when it has one), before anything that does work.</summary>
    public static IApplicationBuilder UseRelayClientLimits(this IApplicationBuilder app)
    {
        var connections = app.ApplicationServices.GetRequiredService<ClientConnections>();
        app.Use((http, next) =>
        {
            if (!ClientConnections.IsOverLimit(http))
            {
                return next(http);
            }

            http.Response.Headers.Connection = "close";
            return WriteTooManyAsync(http, TimeSpan.FromSeconds(1), "Too many connections from this address.",
                $"An address may hold {connections.Limit} connections at once (Relay:Limits:PerClient:Connections): reuse them, or close one.");
        });
        app.UseRateLimiter();
        return app;
    }

    /// <summary>The bucket a request counts against: its key's name once authenticated by a key or a session, else its address.</summary>
    internal static string PartitionOf(HttpContext http)
    {
        var keys = http.RequestServices.GetRequiredService<ApiKeyRing>();
        return keys.Enabled && http.User.Identity?.IsAuthenticated == true && http.User.Caller() is { } caller
            ? "key:" + caller.Name
            : "address:" + ClientAddress.Of(http.Connection.RemoteIpAddress);
    }

    private static Task WriteTooManyAsync(HttpContext http, TimeSpan retryAfter, string title, string detail)
    {
        if (http.Response.HasStarted)
        {
            return Task.CompletedTask;
        }

        var seconds = TooManyFailedAttempts.RetryAfterSeconds(retryAfter);
        http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        http.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Problems.Of(StatusCodes.Status429TooManyRequests, title, $"{detail} Try again in {seconds} s.").ExecuteAsync(http);
    }
}
