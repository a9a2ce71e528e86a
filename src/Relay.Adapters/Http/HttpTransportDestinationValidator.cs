using System.Security.Cryptography;
using Relay.Core.Options;

namespace Relay.Adapters.Http;

/// <summary>
/// The rules of the settings that every destination speaking HTTP (Http, Soap) has: <c>Auth</c>,
/// <c>ClientCertificate</c>, <c>TrustedCaPath</c>, and secret references. Secrets are never quoted, only their keys.
/// </summary>
internal static class HttpTransportDestinationValidator
{
    public static void Validate(string key, HttpTransportDestinationOptions destination, ICollection<string> errors)
    {
        var https = OptionRules.TryAddress(destination, out var address) && address.Scheme == Uri.UriSchemeHttps;
        ValidateAuth(key, destination, errors);
        foreach (var (name, value) in destination.Headers)
        {
            Add(errors, SecretReference.Problem($"{key}:Headers:{name}", value));
        }

        if (destination.ClientCertificate is { } certificate)
        {
            ValidateCertificate($"{key}:ClientCertificate", certificate, errors);
            if (!https)
            {
                errors.Add($"{key}:ClientCertificate is set but {key}:Address is not https://: a client certificate is presented in a TLS handshake only.");
            }
        }

        if (destination.TrustedCaPath is { } ca)
        {
            if (!https)
            {
                errors.Add($"{key}:TrustedCaPath is set but {key}:Address is not https://; use an https:// address, or leave TrustedCaPath out.");
            }
            else if (TrustedCa.Load(ca, out var problem) is null)
            {
                errors.Add($"{key}:TrustedCaPath '{OptionRules.Shorten(ca)}' {problem} (a PEM file of the CA certificate(s) that signed the server's).");
            }
        }
    }

    private static void ValidateAuth(string key, HttpTransportDestinationOptions destination, ICollection<string> errors)
    {
        var auth = destination.Auth;
        var prefix = $"{key}:Auth";
        if (auth.Kind == HttpAuthKind.None)
        {
            if (auth.AnySetting)
            {
                errors.Add($"{prefix}:Kind is missing; give Basic, Bearer or OAuth2ClientCredentials.");
            }

            return;
        }

        if (DestinationHeadersConfigure(destination, "Authorization"))
        {
            errors.Add($"{key}:Headers:Authorization and {prefix} both set the Authorization header; keep one of them (Auth is the typed one).");
        }

        string[] allowed = auth.Kind switch
        {
            HttpAuthKind.Basic => [nameof(auth.Username), nameof(auth.Password)],
            HttpAuthKind.Bearer => [nameof(auth.Token)],
            _ => [nameof(auth.TokenUrl), nameof(auth.ClientId), nameof(auth.ClientSecret), nameof(auth.Scope), nameof(auth.Audience)],
        };
        foreach (var (name, value) in Settings(auth))
        {
            if (value is not null && !allowed.Contains(name))
            {
                errors.Add($"{prefix}:{name} is not a setting of Auth:Kind {auth.Kind} (which takes {string.Join(", ", allowed)}).");
            }
        }

        switch (auth.Kind)
        {
            case HttpAuthKind.Basic:
                Required(prefix, nameof(auth.Username), auth.Username, errors);
                Required(prefix, nameof(auth.Password), auth.Password, errors);
                if (auth.Username?.Contains(':', StringComparison.Ordinal) == true)
                {
                    errors.Add($"{prefix}:Username contains ':', which Basic authentication cannot carry in a user name.");
                }

                Add(errors, SecretReference.Problem($"{prefix}:Password", auth.Password));
                break;
            case HttpAuthKind.Bearer:
                Required(prefix, nameof(auth.Token), auth.Token, errors);
                Add(errors, SecretReference.Problem($"{prefix}:Token", auth.Token));
                break;
            case HttpAuthKind.OAuth2ClientCredentials:
                if (string.IsNullOrWhiteSpace(auth.TokenUrl))
                {
                    errors.Add($"{prefix}:TokenUrl is missing: the authorization server's token endpoint (https://login.example.com/oauth2/token).");
                }
                else if (!Uri.TryCreate(auth.TokenUrl, UriKind.Absolute, out var tokenUrl) || tokenUrl.Scheme is not ("http" or "https"))
                {
                    errors.Add($"{prefix}:TokenUrl '{OptionRules.Shorten(auth.TokenUrl)}' is not an absolute http:// or https:// URL.");
                }
                else if (!string.IsNullOrEmpty(tokenUrl.UserInfo))
                {
                    errors.Add($"{prefix}:TokenUrl carries a user name or password; give them as {prefix}:ClientId and {prefix}:ClientSecret, which are never shown.");
                }

                Required(prefix, nameof(auth.ClientId), auth.ClientId, errors);
                Required(prefix, nameof(auth.ClientSecret), auth.ClientSecret, errors);
                Add(errors, SecretReference.Problem($"{prefix}:ClientSecret", auth.ClientSecret));
                break;
        }
    }

    private static void ValidateCertificate(string prefix, ClientCertificateOptions certificate, ICollection<string> errors)
    {
        if (string.IsNullOrWhiteSpace(certificate.Path))
        {
            errors.Add($"{prefix}:Path is missing: the client certificate, a PEM file (with KeyPath, or holding the key too) or a PKCS#12 (.pfx, .p12) file.");
            return;
        }

        var passwordProblem = SecretReference.Problem($"{prefix}:Password", certificate.Password);
        if (passwordProblem is not null)
        {
            errors.Add(passwordProblem);
            return;
        }

        try
        {
            var reader = new SecretReader(TimeProvider.System);
            using var loaded = ClientCertificates.Load(certificate, reader, prefix);
            if (!loaded.HasPrivateKey)
            {
                errors.Add($"{prefix} has no private key: give {prefix}:KeyPath, or a file that holds the key too.");
            }
        }
        catch (SecretUnavailableException ex)
        {
            errors.Add(ex.Message + ".");
        }
        catch (CryptographicException)
        {
            errors.Add($"{prefix} cannot be loaded: not a PEM certificate with its private key (in {prefix}:KeyPath or the same file), nor a PKCS#12 file, or the wrong {prefix}:Password.");
        }
    }

    private static IEnumerable<(string Name, string? Value)> Settings(HttpAuthOptions auth) =>
    [
        (nameof(auth.Username), auth.Username), (nameof(auth.Password), auth.Password), (nameof(auth.Token), auth.Token),
        (nameof(auth.TokenUrl), auth.TokenUrl), (nameof(auth.ClientId), auth.ClientId), (nameof(auth.ClientSecret), auth.ClientSecret),
        (nameof(auth.Scope), auth.Scope), (nameof(auth.Audience), auth.Audience),
    ];

    private static void Required(string prefix, string name, string? value, ICollection<string> errors)
    {
        if (string.IsNullOrEmpty(value))
        {
            errors.Add($"{prefix}:{name} is missing.");
        }
    }

    private static bool DestinationHeadersConfigure(HttpTransportDestinationOptions destination, string name) =>
        Core.Messages.DestinationHeaders.Configures(destination, name);

    private static void Add(ICollection<string> errors, string? problem)
    {
        if (problem is not null)
        {
            errors.Add(problem);
        }
    }
}
