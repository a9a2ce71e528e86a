using System.Globalization;
using System.Reflection;
using Npgsql;

namespace Relay.Storage.AdoNet.Schema;

/// <summary>
/// The scripts of <c>sql/postgresql/</c>, embedded in this assembly: everything Orleans's ADO.NET clustering,
/// reminder and persistence providers need, and Relay's delivery index and audit. Each script records itself in
/// <c>relay_schema_version</c> (its number, from the file name), which is how a silo tells what is there.
/// </summary>
/// <remarks>
/// A released script never changes: a change of schema is a new script with the next number. Every script is also
/// safe to apply again, so an operator who is unsure may apply them all.
/// </remarks>
public static class PostgresSchema
{
    /// <summary>The configuration switch that makes a silo apply the missing scripts at start-up.</summary>
    public const string MigrateSetting = "Relay:Storage:Migrate";

    private const string ResourcePrefix = "Relay.Storage.AdoNet.Schema.";

    /// <summary>
    /// Taken (for one transaction) by every silo that applies a script, so silos starting together apply them one
    /// after another. An arbitrary constant: "RELAYSQL" in ASCII.
    /// </summary>
    private const long MigrationLock = 0x52454C415953514C;

    private static readonly Lazy<IReadOnlyList<SchemaScript>> EmbeddedScripts = new(LoadScripts);

    /// <summary>The scripts, in the order they are applied.</summary>
    public static IReadOnlyList<SchemaScript> Scripts => EmbeddedScripts.Value;

    /// <summary>
    /// Applies, in order, every script that <c>relay_schema_version</c> does not list yet, each in a transaction of
    /// its own; answers the names of the scripts it applied.
    /// </summary>
    public static async Task<IReadOnlyList<string>> ApplyAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        var applied = new List<string>();
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            foreach (var script in Scripts)
            {
                var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await using (transaction.ConfigureAwait(false))
                {
                    await ExecuteAsync(connection, string.Create(CultureInfo.InvariantCulture, $"SELECT pg_advisory_xact_lock({MigrationLock})"), cancellationToken)
                        .ConfigureAwait(false);

                    // Looked at under the lock: another silo may have applied it while this one waited.
                    if ((await ReadVersionsAsync(connection, cancellationToken).ConfigureAwait(false)).Contains(script.Version))
                    {
                        await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
                        continue;
                    }

                    await ExecuteAsync(connection, script.Sql, cancellationToken).ConfigureAwait(false);
                    await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                    applied.Add(script.Name);
                }
            }
        }

        return applied;
    }

    /// <summary>The scripts the database lacks, in the order to apply them; empty when the schema is complete.</summary>
    public static async Task<IReadOnlyList<SchemaScript>> FindMissingAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var present = await ReadVersionsAsync(connection, cancellationToken).ConfigureAwait(false);
            return Scripts.Where(s => !present.Contains(s.Version)).ToArray();
        }
    }

    /// <summary>
    /// Throws <see cref="RelaySchemaException"/>, naming the scripts to apply, when the database lacks any of them.
    /// A database with scripts newer than this build knows is accepted: scripts only ever add.
    /// </summary>
    public static async Task CheckAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken = default)
    {
        var missing = await FindMissingAsync(dataSource, cancellationToken).ConfigureAwait(false);
        if (missing.Count > 0)
        {
            throw new RelaySchemaException(Describe(dataSource, missing), missing.Select(s => s.Name).ToArray());
        }
    }

    /// <summary>Runs one script's SQL as it is, in the caller's transaction if there is one.</summary>
    internal static Task ExecuteScriptAsync(NpgsqlConnection connection, SchemaScript script, CancellationToken cancellationToken) =>
        ExecuteAsync(connection, script.Sql, cancellationToken);

    private static string Describe(NpgsqlDataSource dataSource, IReadOnlyList<SchemaScript> missing)
    {
        // The database's name only: a connection string may carry a password and never goes into a message.
        var database = new NpgsqlConnectionStringBuilder(dataSource.ConnectionString).Database ?? "(default)";
        var none = missing.Count == Scripts.Count;
        var files = string.Join(", ", missing.Select(s => "sql/postgresql/" + s.Name));
        return (none
                ? $"The PostgreSQL database '{database}' has no Relay schema."
                : $"The PostgreSQL database '{database}' has an older Relay schema.")
            + $" Apply, in this order: {files} (each with psql -v ON_ERROR_STOP=1 --single-transaction -f FILE),"
            + $" or start the silo with {MigrateSetting}=true to apply them at start-up.";
    }

    private static async Task<HashSet<int>> ReadVersionsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var versions = new HashSet<int>();
        // An empty database has not even the table.
        if (!await TableExistsAsync(connection, "relay_schema_version", cancellationToken).ConfigureAwait(false))
        {
            return versions;
        }

        var command = connection.CreateCommand();
        await using (command.ConfigureAwait(false))
        {
            command.CommandText = "SELECT version FROM relay_schema_version";
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    versions.Add(reader.GetInt32(0));
                }
            }
        }

        return versions;
    }

    private static async Task<bool> TableExistsAsync(NpgsqlConnection connection, string table, CancellationToken cancellationToken)
    {
        var command = connection.CreateCommand();
        await using (command.ConfigureAwait(false))
        {
            // to_regclass answers NULL, where a query of the table would fail, when it is not there.
            command.CommandText = "SELECT to_regclass(@table) IS NOT NULL";
            command.Parameters.AddWithValue("table", table);
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is true;
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        var command = connection.CreateCommand();
        await using (command.ConfigureAwait(false))
        {
            command.CommandText = sql;
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static IReadOnlyList<SchemaScript> LoadScripts()
    {
        var assembly = typeof(PostgresSchema).Assembly;
        var scripts = assembly.GetManifestResourceNames()
            .Where(name => name.StartsWith(ResourcePrefix, StringComparison.Ordinal) && name.EndsWith(".sql", StringComparison.Ordinal))
            .Select(name => Load(assembly, name))
            .OrderBy(script => script.Name, StringComparer.Ordinal)
            .ToArray();
        if (scripts.Length == 0 || scripts.Select(s => s.Version).Distinct().Count() != scripts.Length)
        {
            throw new InvalidOperationException("This build embeds no PostgreSQL scripts, or two with one number.");
        }

        return scripts;
    }

    private static SchemaScript Load(Assembly assembly, string resource)
    {
        var name = resource[ResourcePrefix.Length..];
        var digits = name.TakeWhile(char.IsAsciiDigit).Count();
        if (digits == 0 || !int.TryParse(name.AsSpan(0, digits), NumberStyles.None, CultureInfo.InvariantCulture, out var version))
        {
            throw new InvalidOperationException($"The embedded script '{name}' does not start with its number.");
        }

        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var reader = new StreamReader(stream);
        return new SchemaScript(version, name, reader.ReadToEnd());
    }
}

/// <summary>One schema script: its number, its file name in <c>sql/postgresql/</c>, and its SQL.</summary>
public sealed record SchemaScript(int Version, string Name, string Sql)
{
    public override string ToString() => Name;
}

/// <summary>The database lacks Relay's schema, or part of it; the message says which scripts to apply.</summary>
public sealed class RelaySchemaException : Exception
{
    public RelaySchemaException(string message, IReadOnlyList<string> missingScripts)
        : base(message) => MissingScripts = missingScripts;

    public RelaySchemaException()
    {
    }

    public RelaySchemaException(string message)
        : base(message)
    {
    }

    public RelaySchemaException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>File names of the scripts to apply, in order.</summary>
    public IReadOnlyList<string> MissingScripts { get; } = [];
}
