using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Relay.Silo.Security;

namespace Relay.Silo.Tests.Security;

/// <summary>
/// The request pipeline <see cref="RelaySecurityExtensions.UseRelaySecurity"/> builds, on a real Kestrel: without keys
/// every request is the anonymous operator and ASP.NET Core's authentication middleware does not run at all (a
/// WebApplication would otherwise put it back at the start of the pipeline); with keys it does, and decides.
/// </summary>
public sealed class KeylessPipelineTests
{
    [Fact]
    public async Task Without_keys_no_ASP_NET_Core_authentication_runs_and_the_caller_is_the_anonymous_operator()
    {
        await using var app = await StartAsync(new Dictionary<string, string?>());
        using var client = new HttpClient { BaseAddress = app.Url };

        Assert.Equal("anonymous Operator; authentication middleware: no", await client.GetStringAsync("/probe"));
    }

    [Fact]
    public async Task With_keys_ASP_NET_Core_authenticates_and_a_request_without_a_key_is_refused()
    {
        await using var app = await StartAsync(new Dictionary<string, string?> { ["Relay:Security:SenderKeys:shop"] = "the-shop-key-0123456789" });
        using var client = new HttpClient { BaseAddress = app.Url };

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/probe")).StatusCode);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/probe");
        request.Headers.Add("X-Api-Key", "the-shop-key-0123456789");
        using var response = await client.SendAsync(request);
        Assert.Equal("shop Sender; authentication middleware: yes", await response.Content.ReadAsStringAsync());
    }

    private static async Task<Running> StartAsync(Dictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddRelaySecurity();
        Limits.ClientLimitsExtensions.AddRelayClientLimits(builder);
        var app = builder.Build();
        app.UseRelaySecurity(_ => { });
        app.MapGet("/probe", (HttpContext http) =>
        {
            var caller = http.User.Caller();
            var aspNet = http.Features.Get<IAuthenticationFeature>() is null ? "no" : "yes";
            return $"{caller?.Name} {caller?.Role}; authentication middleware: {aspNet}";
        }).RequireAuthorization(RelayAuth.SenderPolicy);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new Running(app, new Uri(address));
    }

    private sealed record Running(WebApplication App, Uri Url) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await App.StopAsync();
            await App.DisposeAsync();
        }
    }
}
