namespace Relay.Core.Options;

/// <summary>
/// Marks a setting whose value is a secret (a password, a header that carries a key): never logged, and shown redacted
/// wherever Relay shows settings (the catalog's answers and its audit). On a dictionary, every value is a secret.
/// </summary>
[AttributeUsage(AttributeTargets.Property, Inherited = true)]
public sealed class SecretAttribute : Attribute
{
    /// <summary>What a secret is shown as.</summary>
    public const string Redacted = "***";
}
