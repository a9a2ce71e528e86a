using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Relay.Testing;

/// <summary>How the test token endpoint answers.</summary>
public enum TokenEndpointMode
{
    Issue,
    /// <summary>400 <c>{"error":"invalid_client"}</c>, as a server answers a disabled client or a wrong secret.</summary>
    RefuseClient,
    /// <summary>503.</summary>
    Down,
}

/// <summary>
/// A real OAuth 2.0 authorization server and protected API on Kestrel (127.0.0.1, HTTP or HTTPS with a required client
/// certificate), for the credential tests (adapters and silo). <c>POST /token</c> issues tokens to one client (HTTP Basic client
/// authentication, <c>grant_type=client_credentials</c>) and counts its requests; <c>/api</c> accepts only a token it
/// issued and has not revoked (401 otherwise); <c>/basic</c> accepts only the configured Basic credentials;
/// <c>/open</c> accepts anything.
/// </summary>
public sealed class AuthServer : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, bool> _valid = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<IReadOnlyDictionary<string, string>> _tokenRequests = new();
    private readonly ConcurrentQueue<string?> _apiAuthorizations = new();
    private WebApplication _app = null!;
    private int _issued;

    public string BaseUrl { get; private set; } = "";

    public string ClientId { get; set; } = "relay";
    public string ClientSecret { get; set; } = "s3cret-client-Q8v";
    public string BasicUser { get; set; } = "partner";
    public string BasicPassword { get; set; } = "basic-pw-7Zx";
    public int ExpiresIn { get; set; } = 3600;
    public TokenEndpointMode Mode { get; set; } = TokenEndpointMode.Issue;
    /// <summary>Holds each token request this long before answering (so that concurrent callers meet in flight).</summary>
    public TimeSpan TokenDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    public int TokenRequests => _tokenRequests.Count;
    public IReadOnlyList<IReadOnlyDictionary<string, string>> TokenRequestForms => _tokenRequests.ToArray();
    public IReadOnlyList<string?> ApiAuthorizations => _apiAuthorizations.ToArray();
    /// <summary>The subject of the client certificate of the last request, when one was presented.</summary>
    public string? LastClientCertificate { get; private set; }

    public string Url(string path) => BaseUrl + path;

    /// <summary>Revokes every token issued so far: <c>/api</c> answers 401 to them.</summary>
    public void RevokeAll()
    {
        foreach (var token in _valid.Keys)
        {
            _valid[token] = false;
        }
    }

    public static async Task<AuthServer> StartAsync(X509Certificate2? serverCertificate = null, X509Certificate2? clientCa = null)
    {
        var server = new AuthServer();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen =>
        {
            if (serverCertificate is not null)
            {
                listen.UseHttps(https =>
                {
                    https.ServerCertificate = serverCertificate;
                    if (clientCa is not null)
                    {
                        https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
                        https.ClientCertificateValidation = (certificate, _, _) => ChainsTo(certificate, clientCa);
                    }
                });
            }
        }));
        var app = builder.Build();
        app.Use(async (context, next) =>
        {
            server.LastClientCertificate = context.Connection.ClientCertificate?.Subject;
            await next(context);
        });
        app.MapPost("/token", (Delegate)server.TokenAsync);
        app.MapPost("/api", (HttpContext context) =>
        {
            var authorization = context.Request.Headers.Authorization.ToString();
            server._apiAuthorizations.Enqueue(authorization);
            return authorization.StartsWith("Bearer ", StringComparison.Ordinal) && server._valid.TryGetValue(authorization[7..], out var valid) && valid
                ? Results.Text("ok")
                : Results.Text("unauthorized", statusCode: 401);
        });
        app.MapPost("/basic", (HttpContext context) =>
        {
            var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(server.BasicUser + ":" + server.BasicPassword));
            return context.Request.Headers.Authorization.ToString() == expected ? Results.Text("ok") : Results.Text("unauthorized", statusCode: 401);
        });
        app.MapPost("/bearer", (HttpContext context) =>
            context.Request.Headers.Authorization.ToString() == "Bearer " + server.ClientSecret ? Results.Text("ok") : Results.Text("unauthorized", statusCode: 401));
        app.MapPost("/open", () => Results.Text("ok"));
        await app.StartAsync();
        server._app = app;
        server.BaseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()
            .Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal);
        return server;
    }

    private async Task<IResult> TokenAsync(HttpContext context)
    {
        var form = await context.Request.ReadFormAsync();
        var fields = form.ToDictionary(f => f.Key, f => f.Value.ToString(), StringComparer.Ordinal);
        fields["authorization"] = context.Request.Headers.Authorization.ToString();
        _tokenRequests.Enqueue(fields);
        await Task.Delay(TokenDelay);
        if (Mode == TokenEndpointMode.Down)
        {
            return Results.Text("down", statusCode: 503);
        }

        var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(Uri.EscapeDataString(ClientId) + ":" + Uri.EscapeDataString(ClientSecret)));
        if (Mode == TokenEndpointMode.RefuseClient || fields["authorization"] != expected || fields.GetValueOrDefault("grant_type") != "client_credentials")
        {
            return Results.Json(new { error = "invalid_client", error_description = "client authentication failed" }, statusCode: 400);
        }

        var token = $"token-{Interlocked.Increment(ref _issued)}-{Guid.NewGuid():N}";
        _valid[token] = true;
        return Results.Json(new { access_token = token, token_type = "Bearer", expires_in = ExpiresIn });
    }

    private static bool ChainsTo(X509Certificate2 certificate, X509Certificate2 ca)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        return chain.Build(certificate);
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
