namespace Relay.Adapters.Tests.Servers;

/// <summary>
/// A real LDAP server (OpenLDAP's slapd, Debian's slapd) on a free port of 127.0.0.1, with a throw-away
/// slapd.conf and an mdb database in a temporary folder: suffix <see cref="Suffix"/>, root DN
/// <see cref="RootDn"/>, and the entry <c>ou=people</c>. What arrived is read with slapcat, straight from the
/// database files, not through the client library the adapter uses.
/// </summary>
internal sealed class LdapTestServer : IAsyncDisposable
{
    public const string Suffix = "dc=relay,dc=test";
    public const string RootDn = "cn=admin," + Suffix;
    public const string Password = "s3cret-ldap-Pa55";
    public const string People = "ou=people," + Suffix;

    private const string Sbin = "/usr/sbin";
    private const string Hint = "install Debian's slapd (test.sh does)";

    private readonly string _folder;
    private readonly ServerProcess _process;

    private LdapTestServer(string folder, ServerProcess process, int tlsPort)
    {
        _folder = folder;
        _process = process;
        TlsPort = tlsPort;
    }

    public int Port => _process.Port;

    /// <summary>With TLS: the ldaps:// port.</summary>
    public int TlsPort { get; }

    /// <summary>With TLS: the ldaps:// address, base DN the whole database.</summary>
    public string LdapsAddress => $"ldaps://127.0.0.1:{TlsPort}/{Suffix}";

    /// <summary>With TLS: the test CA (PEM) that signed the server's certificate for 127.0.0.1.</summary>
    public string CaPath => Path.Combine(_folder, "ca.crt");

    /// <summary>The destination's address: the server and, as its base DN, the whole database (<see cref="Suffix"/>).</summary>
    public string Address => $"ldap://127.0.0.1:{Port}/{Suffix}";

    private string ConfigFile => Path.Combine(_folder, "slapd.conf");

    /// <param name="tls">
    /// Also listen on ldaps:// (<see cref="TlsPort"/>) with a certificate for 127.0.0.1 signed by a throw-away CA made
    /// with openssl (<see cref="CaPath"/>), offer StartTLS on ldap://, and require TLS for every operation
    /// (<c>security tls=1</c>): a bind without it is refused with 13 confidentialityRequired.
    /// </param>
    public static async Task<LdapTestServer> StartAsync(bool tls = false)
    {
        var folder = TempFolder.Create("relay-ldap-");
        var database = Path.Combine(folder, "db");
        Directory.CreateDirectory(database);
        var config = Path.Combine(folder, "slapd.conf");
        var tlsConfig = "";
        if (tls)
        {
            await MakeCertificatesAsync(folder);
            tlsConfig = $"""
                TLSCACertificateFile {folder}/ca.crt
                TLSCertificateFile {folder}/server.crt
                TLSCertificateKeyFile {folder}/server.key
                security tls=1
                """;
        }

        await File.WriteAllTextAsync(config, $"""
            include /etc/ldap/schema/core.schema
            include /etc/ldap/schema/cosine.schema
            include /etc/ldap/schema/inetorgperson.schema
            pidfile {folder}/slapd.pid
            argsfile {folder}/slapd.args
            {tlsConfig}
            modulepath /usr/lib/ldap
            moduleload back_mdb
            database mdb
            maxsize 16777216
            suffix "{Suffix}"
            rootdn "{RootDn}"
            rootpw {Password}
            directory {database}
            """);
        await File.WriteAllTextAsync(Path.Combine(folder, "base.ldif"), $"""
            dn: {Suffix}
            objectClass: dcObject
            objectClass: organization
            dc: relay
            o: relay

            dn: {People}
            objectClass: organizationalUnit
            ou: people

            """);
        var port = Ports.Free();
        var tlsPort = tls ? Ports.Free() : 0;
        var urls = $"ldap://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/"
                   + (tls ? $" ldaps://127.0.0.1:{tlsPort.ToString(CultureInfo.InvariantCulture)}/" : "");
        var process = new ServerProcess("LDAP server", Path.Combine(Sbin, "slapd"), ["-d", "0", "-f", config, "-h", urls], port, Hint);
        var server = new LdapTestServer(folder, process, tlsPort);
        try
        {
            await RunAsync("slapadd", "-f", config, "-l", Path.Combine(folder, "base.ldif"));
            await process.StartAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    // A CA, and a server certificate for 127.0.0.1 and localhost that it signs, as an operator's private PKI would.
    private static async Task MakeCertificatesAsync(string folder)
    {
        string In(string name) => Path.Combine(folder, name);
        await File.WriteAllTextAsync(In("server.ext"), "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
        await OpenSslAsync("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Relay test CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            "-keyout", In("ca.key"), "-out", In("ca.crt"));
        await OpenSslAsync("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", In("server.key"), "-out", In("server.csr"));
        await OpenSslAsync("x509", "-req", "-in", In("server.csr"), "-CA", In("ca.crt"), "-CAkey", In("ca.key"), "-CAcreateserial",
            "-days", "2", "-extfile", In("server.ext"), "-out", In("server.crt"));
    }

    private static Task OpenSslAsync(params string[] arguments) =>
        TestProcess.RunCheckedAsync("openssl", arguments, TimeSpan.FromSeconds(30));

    /// <summary>The entry with this DN (compared without regard to case and spaces), or null.</summary>
    public async Task<LdifEntry?> EntryAsync(string dn)
    {
        var wanted = Normalize(dn);
        return (await EntriesAsync()).FirstOrDefault(e => Normalize(e.Dn) == wanted);
    }

    /// <summary>Every entry of the database, read by slapcat.</summary>
    public async Task<IReadOnlyList<LdifEntry>> EntriesAsync() => LdifEntry.Parse(await RunAsync("slapcat", "-f", ConfigFile, "-b", Suffix));

    public Task StopAsync() => _process.StopAsync();

    public Task StartAgainAsync() => _process.StartAsync();

    private static string Normalize(string dn) => dn.Replace(" ", "", StringComparison.Ordinal).ToLowerInvariant();

    private static Task<string> RunAsync(string tool, params string[] arguments)
    {
        var path = Path.Combine(Sbin, tool);
        return File.Exists(path)
            ? TestProcess.RunCheckedAsync(path, arguments, TimeSpan.FromSeconds(30))
            : throw new InvalidOperationException($"{path} is missing: {Hint}");
    }

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        TempFolder.Delete(_folder);
    }
}

/// <summary>One entry of an LDIF text: its DN and its attributes' values (names compared without regard to case).</summary>
internal sealed record LdifEntry(string Dn, IReadOnlyDictionary<string, List<string>> Attributes)
{
    public IReadOnlyList<string> Values(string attribute) => Attributes.TryGetValue(attribute, out var values) ? values : [];

    public static IReadOnlyList<LdifEntry> Parse(string ldif)
    {
        var entries = new List<LdifEntry>();
        // Unfold: a line that starts with a space continues the one before (RFC 2849).
        var lines = new List<string>();
        foreach (var raw in ldif.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.StartsWith(' ') && lines.Count > 0)
            {
                lines[^1] += line[1..];
            }
            else
            {
                lines.Add(line);
            }
        }

        string? dn = null;
        var attributes = new Dictionary<string, List<string>>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Append(""))
        {
            if (line.Length == 0)
            {
                if (dn is not null)
                {
                    entries.Add(new LdifEntry(dn, attributes));
                }

                dn = null;
                attributes = new Dictionary<string, List<string>>(StringComparer.OrdinalIgnoreCase);
                continue;
            }

            if (line.StartsWith('#'))
            {
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var name = line[..colon];
            var value = line[(colon + 1)..].StartsWith(':')
                ? Encoding.UTF8.GetString(Convert.FromBase64String(line[(colon + 2)..].Trim()))
                : line[(colon + 1)..].TrimStart();
            if (name.Equals("dn", StringComparison.OrdinalIgnoreCase))
            {
                dn = value;
            }
            else
            {
                (attributes.TryGetValue(name, out var values) ? values : attributes[name] = []).Add(value);
            }
        }

        return entries;
    }
}
