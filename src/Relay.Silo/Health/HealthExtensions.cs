namespace Relay.Silo.Health;

public static class HealthExtensions
{
    /// <summary><c>GET /health</c>'s checks (<see cref="StorageHealth"/>), configured by <c>Relay:Health</c>.</summary>
    public static WebApplicationBuilder AddRelayHealth(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<HealthOptions>().Bind(builder.Configuration.GetSection(HealthOptions.SectionName));
        builder.Services.AddSingleton<StorageHealth>();
        return builder;
    }
}
