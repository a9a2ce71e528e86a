using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Relay.Storage.Sqlite;

/// <summary>How values map to SQLite columns: times as unix milliseconds (UTC), enums by name, ETags as integers.</summary>
internal static class SqliteValues
{
    public static long ToDb(DateTimeOffset value) => value.ToUnixTimeMilliseconds();

    public static object ToDb(DateTimeOffset? value) => value is { } v ? v.ToUnixTimeMilliseconds() : DBNull.Value;

    public static object ToDb(string? value) => (object?)value ?? DBNull.Value;

    public static object ToDb(int? value) => value is { } v ? v : DBNull.Value;

    public static object ToDb<TEnum>(TEnum? value) where TEnum : struct, Enum => value is { } v ? v.ToString() : DBNull.Value;

    /// <summary>A time as it is stored, or null.</summary>
    public static long? Millis(DateTimeOffset? value) => value?.ToUnixTimeMilliseconds();

    /// <summary>An enum value as it is stored: its name (the name's string is the runtime's own, not a new one).</summary>
    public static string Name<TEnum>(TEnum value) where TEnum : struct, Enum => System.Enum.GetName(value) ?? value.ToString();

    public static DateTimeOffset Time(SqliteDataReader reader, int ordinal) =>
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(ordinal));

    public static DateTimeOffset? NullableTime(SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(ordinal));

    public static string? NullableString(SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    public static int? NullableInt(SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetInt32(ordinal);

    public static TEnum Enum<TEnum>(SqliteDataReader reader, int ordinal) where TEnum : struct, Enum =>
        System.Enum.Parse<TEnum>(reader.GetString(ordinal));

    public static TEnum? NullableEnum<TEnum>(SqliteDataReader reader, int ordinal) where TEnum : struct, Enum =>
        reader.IsDBNull(ordinal) ? null : System.Enum.Parse<TEnum>(reader.GetString(ordinal));

    public static string FormatETag(long version) => version.ToString(CultureInfo.InvariantCulture);

    /// <summary>The version an ETag stands for; false for an ETag this storage never handed out.</summary>
    public static bool TryParseETag(string eTag, out long version) =>
        long.TryParse(eTag, NumberStyles.None, CultureInfo.InvariantCulture, out version);
}
