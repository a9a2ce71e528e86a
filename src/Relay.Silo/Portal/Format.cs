using System.Globalization;
using Relay.Contracts;

namespace Relay.Silo.Portal;

/// <summary>How the portal writes times, sizes and statuses.</summary>
public static class Format
{
    public static string Time(DateTimeOffset? value) =>
        value is { } v ? v.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) : "";

    /// <summary>The value of an <c>&lt;input type="datetime-local"&gt;</c>, in UTC.</summary>
    public static string LocalInput(DateTimeOffset? value) =>
        value is { } v ? v.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture) : "";

    public static string StatusClass(DeliveryStatus status) => "badge status-" + status.ToString().ToLowerInvariant();

    public static string Bytes(long count) => count < 1024
        ? $"{count} bytes"
        : count < 1024 * 1024 ? string.Create(CultureInfo.InvariantCulture, $"{count / 1024.0:0.#} KiB") : string.Create(CultureInfo.InvariantCulture, $"{count / 1048576.0:0.#} MiB");
}
