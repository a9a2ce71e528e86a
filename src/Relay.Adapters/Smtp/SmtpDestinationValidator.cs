using Relay.Core.Options;

namespace Relay.Adapters.Smtp;

/// <summary>
/// The rules of an SMTP destination's own settings (the shared ones are <see cref="RelayOptionsValidator"/>'s).
/// The password is a secret: a rule may say one is missing, or that the file or variable it refers to cannot be read,
/// never what it is.
/// </summary>
internal static class SmtpDestinationValidator
{
    /// <summary>The protocol <c>Smtp</c>, as <see cref="SmtpAdapterExtensions.AddRelaySmtpAdapter"/> registers it.</summary>
    public static readonly DestinationProtocol<SmtpDestinationOptions> Protocol = new("Smtp", ["smtp"], Validate);

    public static void Validate(string key, SmtpDestinationOptions destination, ICollection<string> errors)
    {
        OptionRules.CheckNoUserInfo(key, destination, errors);
        if (string.IsNullOrWhiteSpace(destination.From))
        {
            errors.Add($"{key}:From is required for an Smtp destination (the sender's address, e.g. relay@example.com).");
        }
        else if (!IsMailAddress(destination.From))
        {
            errors.Add($"{key}:From is '{OptionRules.Shorten(destination.From)}', which is not a mail address.");
        }

        if (destination.To is null || destination.To.Count == 0)
        {
            errors.Add($"{key}:To is empty; an Smtp destination needs at least one recipient ({key}:To:0).");
        }
        else
        {
            for (var i = 0; i < destination.To.Count; i++)
            {
                if (!IsMailAddress(destination.To[i]))
                {
                    errors.Add($"{key}:To:{i} is '{OptionRules.Shorten(destination.To[i])}', which is not a mail address.");
                }
            }
        }

        if (destination.Subject is null || destination.Subject.Any(char.IsControl))
        {
            errors.Add($"{key}:Subject must be one line of text (default {{id}}).");
        }

        if (string.IsNullOrEmpty(destination.Username) != string.IsNullOrEmpty(destination.Password))
        {
            errors.Add($"{key}:Username and {key}:Password go together: give both to authenticate, or neither.");
        }

        // Found at start-up, not at the first attempt: a reference (${file:...}, ${env:...}) must resolve; named by its key only.
        if (SecretReference.Problem($"{key}:Password", destination.Password) is { } secretProblem)
        {
            errors.Add(secretProblem);
        }
    }

    private static bool IsMailAddress(string? value) =>
        !string.IsNullOrWhiteSpace(value) && System.Net.Mail.MailAddress.TryCreate(value, out var parsed) && parsed.Host.Length > 0;
}
