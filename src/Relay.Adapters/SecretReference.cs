using System.Collections.Concurrent;
using System.Text;

namespace Relay.Adapters;

/// <summary>
/// A secret setting given as a reference instead of its value (docs/AUTH.md, "Secrets from files or the environment"):
/// <c>${file:/run/secrets/partner-token}</c> (the file's content, a trailing line break dropped, as mounted secrets of
/// Kubernetes or Docker hold them) or <c>${env:PARTNER_TOKEN}</c> (an environment variable). Any other value is the
/// secret itself. A reference is checked at start-up (the file readable, the variable set) and read again at most every
/// <see cref="SecretReader.RereadInterval"/> while it is used: a rotated file takes effect without a restart.
/// </summary>
public static class SecretReference
{
    private const string FilePrefix = "${file:";
    private const string EnvPrefix = "${env:";

    /// <summary>Whether <paramref name="value"/> is a reference; <paramref name="file"/> or <paramref name="variable"/> says to what.</summary>
    public static bool TryParse(string? value, out string? file, out string? variable)
    {
        file = variable = null;
        if (value is null || !value.EndsWith('}'))
        {
            return false;
        }

        if (value.StartsWith(FilePrefix, StringComparison.Ordinal))
        {
            file = value[FilePrefix.Length..^1];
            return true;
        }

        if (value.StartsWith(EnvPrefix, StringComparison.Ordinal))
        {
            variable = value[EnvPrefix.Length..^1];
            return true;
        }

        return false;
    }

    /// <summary>
    /// What is wrong with the secret setting <paramref name="key"/> (a whole sentence naming it, never the secret), or
    /// null. Only a reference can be wrong here: it must name a readable, non-empty file or a set variable.
    /// </summary>
    public static string? Problem(string key, string? value)
    {
        if (!TryParse(value, out var file, out var variable))
        {
            return null;
        }

        if (file is not null)
        {
            return SecretReader.TryReadFile(file, out var content, out var problem) && content.Length > 0
                ? null
                : $"{key} refers to the file '{Core.Options.OptionRules.Shorten(file)}', which {(problem ?? "is empty")}.";
        }

        return string.IsNullOrEmpty(variable) || string.IsNullOrEmpty(Environment.GetEnvironmentVariable(variable))
            ? $"{key} refers to the environment variable '{Core.Options.OptionRules.Shorten(variable)}', which is not set (or empty)."
            : null;
    }
}

/// <summary>
/// Reads secret settings (<see cref="SecretReference"/>) and the files of a destination's TLS settings, each at most once
/// every <see cref="RereadInterval"/>: attempts do not read the disk each time, and a file rotated in place (a mounted
/// secret updated by Kubernetes) is seen within that interval. A periodic re-read rather than a file watcher: a mounted
/// secret is replaced through a symbolic link swap, which watchers miss on some file systems. When a file that was read
/// before cannot be read now, the last content read is kept (a rotation in progress must not fail deliveries).
/// </summary>
public sealed class SecretReader(TimeProvider time)
{
    /// <summary>How long a file's or variable's content is kept before it is read again.</summary>
    public static readonly TimeSpan RereadInterval = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, (byte[] Content, long ReadAt)> _files = new(StringComparer.Ordinal);

    /// <summary>The secret <paramref name="value"/> stands for: itself, or the content of the file or variable it refers to.</summary>
    /// <exception cref="SecretUnavailableException">The reference cannot be read (and never could since start).</exception>
    public string? Resolve(string? value, string setting)
    {
        if (!SecretReference.TryParse(value, out var file, out var variable))
        {
            return value;
        }

        if (variable is not null)
        {
            return Environment.GetEnvironmentVariable(variable) is { Length: > 0 } set
                ? set
                : throw new SecretUnavailableException($"{setting} refers to the environment variable '{variable}', which is not set");
        }

        return TrimLineBreak(Encoding.UTF8.GetString(ReadFile(file!, setting)));
    }

    /// <summary>A file of the destination's settings (a certificate, a key, a CA), read again at most every <see cref="RereadInterval"/>.</summary>
    /// <exception cref="SecretUnavailableException">The file cannot be read (and never could since start).</exception>
    public byte[] ReadFile(string path, string setting)
    {
        var now = time.GetTimestamp();
        if (_files.TryGetValue(path, out var known) && time.GetElapsedTime(known.ReadAt, now) < RereadInterval)
        {
            return known.Content;
        }

        if (TryReadFile(path, out var content, out var problem))
        {
            _files[path] = (content, now);
            return content;
        }

        if (known.Content is not null)
        {
            _files[path] = (known.Content, now);
            return known.Content;
        }

        throw new SecretUnavailableException($"{setting} refers to the file '{path}', which {problem}");
    }

    internal static bool TryReadFile(string path, out byte[] content, out string? problem)
    {
        try
        {
            content = File.ReadAllBytes(path);
            problem = null;
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            content = [];
            problem = ex is FileNotFoundException or DirectoryNotFoundException ? "does not exist" : $"cannot be read ({ex.GetType().Name})";
            return false;
        }
    }

    private static string TrimLineBreak(string text) =>
        text.EndsWith("\r\n", StringComparison.Ordinal) ? text[..^2] : text.EndsWith('\n') ? text[..^1] : text;
}

/// <summary>A secret reference that cannot be read; its message names the setting and the file or variable, never a secret.</summary>
public sealed class SecretUnavailableException(string message) : Exception(message);
