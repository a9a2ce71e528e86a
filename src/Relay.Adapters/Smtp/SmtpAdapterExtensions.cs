using Microsoft.Extensions.DependencyInjection;
using Relay.Adapters.Smtp;

namespace Relay.Adapters;

public static class SmtpAdapterExtensions
{
    /// <summary>Registers the SMTP adapter (<c>Protocol: Smtp</c>).</summary>
    public static IServiceCollection AddRelaySmtpAdapter(this IServiceCollection services, Action<SmtpAdapterOptions>? configure = null) =>
        services.AddProtocolAdapter<SmtpAdapter, SmtpAdapterOptions>(SmtpDestinationValidator.Protocol, configure);
}
