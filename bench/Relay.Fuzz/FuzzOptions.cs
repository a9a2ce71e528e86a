using System.Globalization;

namespace Relay.Fuzz;

/// <summary>The command line of relay-fuzz.</summary>
internal sealed class FuzzOptions
{
    public const string Usage = """
        relay-fuzz: sends generated and mutated requests to a running silo's front doors (POST /messages, the SOAP
        front door, the portal's forms) and checks what must always hold: no 5xx (a 503 only with --allow-503), no
        crash, nothing stored and nothing sent for a refused request, XML entities never resolved, memory flat.

          --url URL               the silo's base URL (required)
          --sink-port P           the port of relay-fuzz's own destination on 127.0.0.1 (required); the silo must
                                  have the destinations --destination at http://127.0.0.1:P/ok and --dead-destination
                                  at http://127.0.0.1:P/dead (answers 400) configured
          --destination NAME      default fz
          --dead-destination NAME default fzdead
          --sender-key KEY        the sender key requests carry (omit when the silo runs without keys)
          --operator-key KEY      an operator key: portal sign-in and the after-run checks (omit without keys)
          --requests N            requests to send (default 10000)
          --duration D            stop sending after D seconds even if N were not sent (default: none)
          --concurrency C         requests under way at once (default 16)
          --seed S                the run's seed; request i is generated from (S, i), so a finding replays (default 1)
          --silo-pid PID          the silo's process: its memory (VmRSS) is sampled each second and it must be alive at the end
          --max-rss-growth F      with --silo-pid: a finding when the median RSS of the last quarter of the run exceeds
                                  F x that of the second quarter (default 1.5)
          --check-refused N       refused requests looked up afterwards with GET /messages/{id}: all must be 404 (default 2000)
          --allow-503             a 503 is not a finding (storage down on purpose)
          --json FILE             write the report as JSON
          --progress D            progress line interval on stderr in seconds (default 10; 0: none)

        Exit code 0 when no finding, 1 with findings, 2 for a bad command line.
        """;

    public required Uri Url { get; init; }
    public required int SinkPort { get; init; }
    public string Destination { get; init; } = "fz";
    public string DeadDestination { get; init; } = "fzdead";
    public string? SenderKey { get; init; }
    public string? OperatorKey { get; init; }
    public long Requests { get; init; } = 10_000;
    public TimeSpan? Duration { get; init; }
    public int Concurrency { get; init; } = 16;
    public int Seed { get; init; } = 1;
    public int? SiloPid { get; init; }
    public double MaxRssGrowth { get; init; } = 1.5;
    public int CheckRefused { get; init; } = 2000;
    public bool Allow503 { get; init; }
    public string? JsonFile { get; init; }
    public TimeSpan Progress { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Parses the command line; <paramref name="options"/> is null (and no error) for <c>--help</c>.</summary>
    public static bool TryParse(string[] args, out FuzzOptions? options, out string? error)
    {
        options = null;
        error = null;
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg is "--help" or "-h")
            {
                return true;
            }

            if (arg == "--allow-503")
            {
                values["allow-503"] = "true";
            }
            else if (arg.StartsWith("--", StringComparison.Ordinal) && i + 1 < args.Length)
            {
                values[arg[2..]] = args[++i];
            }
            else
            {
                error = $"Unexpected argument '{arg}'.";
                return false;
            }
        }

        try
        {
            options = Build(values);
            return true;
        }
        catch (FormatException ex)
        {
            error = ex.Message;
            return false;
        }
    }

    private static FuzzOptions Build(Dictionary<string, string> values)
    {
        string? Take(string name) => values.Remove(name, out var value) ? value : null;
        long Number(string name, long fallback, long min) =>
            Take(name) is { } text
                ? long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min ? n : throw new FormatException($"--{name}: '{text}' is not a whole number >= {min}.")
                : fallback;

        var urlText = Take("url") ?? throw new FormatException("--url is required.");
        if (!Uri.TryCreate(urlText, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            throw new FormatException($"--url: '{urlText}' is not an http(s) URL.");
        }

        var sinkPort = Take("sink-port") is { } portText && int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and < 65536
            ? port
            : throw new FormatException("--sink-port is required: a TCP port.");
        var growthText = Take("max-rss-growth");
        var options = new FuzzOptions
        {
            Url = new Uri(url.GetLeftPart(UriPartial.Authority) + "/"),
            SinkPort = sinkPort,
            Destination = Take("destination") ?? "fz",
            DeadDestination = Take("dead-destination") ?? "fzdead",
            SenderKey = Take("sender-key"),
            OperatorKey = Take("operator-key"),
            Requests = Number("requests", 10_000, 1),
            Duration = Take("duration") is { } d ? TimeSpan.FromSeconds(double.Parse(d, CultureInfo.InvariantCulture)) : null,
            Concurrency = (int)Number("concurrency", 16, 1),
            Seed = (int)Number("seed", 1, 0),
            SiloPid = Take("silo-pid") is { } pid ? int.Parse(pid, CultureInfo.InvariantCulture) : null,
            MaxRssGrowth = growthText is null ? 1.5 : double.Parse(growthText, CultureInfo.InvariantCulture),
            CheckRefused = (int)Number("check-refused", 2000, 0),
            Allow503 = Take("allow-503") is not null,
            JsonFile = Take("json"),
            Progress = TimeSpan.FromSeconds(Number("progress", 10, 0)),
        };
        if (values.Count > 0)
        {
            throw new FormatException($"Unknown option --{values.Keys.First()}.");
        }

        return options;
    }
}
