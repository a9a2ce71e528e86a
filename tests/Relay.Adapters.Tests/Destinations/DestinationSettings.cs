using Microsoft.Extensions.Configuration;
using Relay.Adapters.Ebms;
using Relay.Adapters.Ftp;
using Relay.Adapters.Http;
using Relay.Adapters.Ldap;
using Relay.Adapters.Smtp;
using Relay.Adapters.Soap;
using Relay.Core.Options;

namespace Relay.Adapters.Tests.Destinations;

/// <summary>Destinations checked as the host checks them: bound from configuration keys, then validated with every protocol.</summary>
internal static class DestinationSettings
{
    public static readonly DestinationProtocol[] Protocols =
    [
        HttpDestinationValidator.Protocol, SoapDestinationValidator.Protocol, FtpDestinationValidator.Protocol,
        SmtpDestinationValidator.Protocol, LdapDestinationValidator.Protocol, EbmsDestinationValidator.Protocol,
    ];

    /// <summary>The problems of one destination <c>target</c>.</summary>
    public static IReadOnlyList<string> Validate(DestinationOptions destination) =>
        RelayOptionsValidator.Validate(new RelayOptions { Destinations = { ["target"] = destination } }, Protocols);

    public static string OnlyError(DestinationOptions destination) => Assert.Single(Validate(destination));

    /// <summary>The destinations of <c>Relay:Destinations</c> in <paramref name="settings"/>, bound as the host binds them.</summary>
    public static (Dictionary<string, DestinationOptions> Destinations, IReadOnlyList<string> Problems) Bind(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value)))
            .Build();
        var destinations = new Dictionary<string, DestinationOptions>(StringComparer.Ordinal);
        var problems = DestinationProtocols.Bind(configuration.GetSection("Relay:Destinations"), Protocols, destinations);
        return (destinations, problems);
    }

    /// <summary>Every problem of a configuration given as keys: binding's, then validation's.</summary>
    public static IReadOnlyList<string> Problems(params (string Key, string Value)[] settings)
    {
        var (destinations, problems) = Bind(settings);
        var options = new RelayOptions();
        foreach (var (name, destination) in destinations)
        {
            options.Destinations[name] = destination;
        }

        return [.. problems, .. RelayOptionsValidator.Validate(options, Protocols)];
    }

    /// <summary>
    /// The shared checks of a <c>Password</c> given as a secret reference: a readable file passes, a missing file and an
    /// unset variable are each the one problem, naming the key, and the secret itself is never in a message.
    /// </summary>
    public static void PasswordReferencesAreChecked(DestinationOptions destination, string unsetVariable)
    {
        var folder = TempFolder.Create("relay-secret-");
        try
        {
            var file = Path.Combine(folder, "password");
            File.WriteAllText(file, "pw-Secret1\n");
            var missing = Path.Combine(folder, "no-such-password");

            destination.Password = "${file:" + file + "}";
            Assert.Empty(Validate(destination));
            destination.Password = "${file:" + missing + "}";
            Assert.Equal($"Relay:Destinations:target:Password refers to the file '{OptionRules.Shorten(missing)}', which does not exist.", OnlyError(destination));
            destination.Password = "${env:" + unsetVariable + "}";
            Assert.Equal($"Relay:Destinations:target:Password refers to the environment variable '{unsetVariable}', which is not set (or empty).", OnlyError(destination));
            Assert.DoesNotContain("pw-Secret1", string.Join("\n", Validate(destination)), StringComparison.Ordinal);
        }
        finally
        {
            TempFolder.Delete(folder);
        }
    }
}
