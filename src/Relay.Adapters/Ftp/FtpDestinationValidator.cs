using Relay.Core.Options;

namespace Relay.Adapters.Ftp;

/// <summary>
/// The rules of an FTP destination's own settings (the shared ones are <see cref="RelayOptionsValidator"/>'s).
/// The password is a secret: a rule may say one is missing, or that the file or variable it refers to cannot be read,
/// never what it is.
/// </summary>
internal static class FtpDestinationValidator
{
    /// <summary>The protocol <c>Ftp</c>, as <see cref="FtpAdapterExtensions.AddRelayFtpAdapter"/> registers it.</summary>
    public static readonly DestinationProtocol<FtpDestinationOptions> Protocol = new("Ftp", ["ftp"], Validate);

    public static void Validate(string key, FtpDestinationOptions destination, ICollection<string> errors)
    {
        OptionRules.CheckNoUserInfo(key, destination, errors);
        if (OptionRules.TryAddress(destination, out var address) && Uri.UnescapeDataString(address.AbsolutePath).Any(char.IsControl))
        {
            errors.Add($"{key}:Address has control characters in its folder.");
        }

        var fileName = destination.FileName;
        if (string.IsNullOrEmpty(fileName) || !fileName.Contains(FtpFileName.IdPlaceholder, StringComparison.Ordinal)
            || fileName.IndexOfAny(['/', '\\']) >= 0 || fileName.Any(char.IsControl))
        {
            errors.Add($"{key}:FileName is '{OptionRules.Shorten(fileName)}'; it must contain {{id}} (each message its own file, which a retry overwrites) and no '/', '\\' or control characters (default {{id}}.dat).");
        }

        if (string.IsNullOrEmpty(destination.Username) && !string.IsNullOrEmpty(destination.Password))
        {
            errors.Add($"{key}:Password is set but {key}:Username is not; give both, or neither to log in as anonymous.");
        }

        // Found at start-up, not at the first attempt: a reference (${file:...}, ${env:...}) must resolve; named by its key only.
        if (SecretReference.Problem($"{key}:Password", destination.Password) is { } secretProblem)
        {
            errors.Add(secretProblem);
        }
    }
}
