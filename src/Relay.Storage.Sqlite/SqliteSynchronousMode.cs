namespace Relay.Storage.Sqlite;

/// <summary>SQLite's <c>PRAGMA synchronous</c>: how hard a commit waits for the disk.</summary>
internal enum SqliteSynchronousMode
{
    Off,
    Normal,
    Full,
    Extra,
}

internal static class SqliteSynchronousModeExtensions
{
    public static SqliteSynchronousMode Parse(string value) =>
        Enum.TryParse<SqliteSynchronousMode>(value, ignoreCase: true, out var mode) && Enum.IsDefined(mode)
            ? mode
            : throw new ArgumentException(
                $"'{value}' is not a SQLite synchronous mode; use Full (survives power loss), Normal (survives a crash of the process), Extra or Off.",
                nameof(value));

    public static string ToPragmaValue(this SqliteSynchronousMode mode) => mode switch
    {
        SqliteSynchronousMode.Off => "OFF",
        SqliteSynchronousMode.Normal => "NORMAL",
        SqliteSynchronousMode.Full => "FULL",
        SqliteSynchronousMode.Extra => "EXTRA",
        _ => throw new ArgumentOutOfRangeException(nameof(mode)),
    };
}
