using System.Globalization;
using System.Security.Cryptography;

namespace Relay.LoadGen;

/// <summary>The command line of relay-loadgen: what to send, where, and how hard.</summary>
internal sealed class LoadOptions
{
    public const string Usage = """
        relay-loadgen: sends messages to Relay's POST /messages and reports answer latency and statuses.

          --url URL [URL...]      silo base URLs, used round-robin (repeat --url or separate with commas)
          --destination NAME      the configured destination every message goes to
          --count N               messages to send (closed loop: default 1000)
          --concurrency C         closed loop: C senders, each waits for its answer (default 16)
          --rate R                open loop: R messages a second on a fixed schedule, answered or not
          --max-in-flight M       open loop: at most M requests under way; a message due beyond that is not sent
                                  and counted as error:ClientBacklog (default 4096)
          --duration D            how long to send (seconds, or hh:mm:ss); the open loop needs it or --count
          --contract NAME         override the destination's retry contract
          --payload-bytes B       payload size in bytes (default 100)
          --id-prefix P           message ids are P-0, P-1, ... (default: lg-<random>, fresh each run)
          --api-key KEY           sent as X-Api-Key when the silos require keys
          --timeout D             bound of one request (default 30 s)
          --json FILE             also write the summary as JSON to FILE
          --acked FILE            write the id of every acknowledged message (answer 200 or 202), one a line
          --latency-skip D        leave the answers to messages due in the first D of the run (seconds, or hh:mm:ss) out of
                                  the latency percentiles: a fresh generator compiles its own code and opens its
                                  connections then (default 0); they are still sent and counted
          --latency-log FILE      write every answer as "<ms from the start to its slot> <latency ms> <HTTP status>",
                                  one a line, in the order answered: where in time the slow answers are
          --soap                  send over the SOAP 1.1 front door (POST /Messaging.svc) instead of POST /messages
          --progress D            progress line interval on stderr (default 5 s; 0: none)

        Latency is measured from the moment a request was meant to go out: in the open loop that is its slot in
        the schedule, so a stalled server shows in the percentiles instead of slowing the sender down.
        Connection errors and timeouts are counted, not fatal. Exit code 0 when at least one answer came, 1 when
        none did, 2 for a bad command line.
        """;

    public required IReadOnlyList<Uri> Urls { get; init; }
    public required string Destination { get; init; }
    /// <summary>Messages to send; null: until <see cref="Duration"/> is over.</summary>
    public long? Count { get; init; }
    public int Concurrency { get; init; } = 16;
    /// <summary>Messages a second in the open loop; null: closed loop.</summary>
    public double? Rate { get; init; }
    public TimeSpan? Duration { get; init; }
    /// <summary>Open loop: requests under way at most (default 4,096), so an overloaded server cannot exhaust the generator.</summary>
    public int MaxInFlight { get; init; } = 4096;
    public string? Contract { get; init; }
    public int PayloadBytes { get; init; } = 100;
    public required string IdPrefix { get; init; }
    public string? ApiKey { get; init; }
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);
    public string? JsonFile { get; init; }
    public TimeSpan Progress { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>File for the ids of acknowledged messages (the benchmark's loss check); null: not written.</summary>
    public string? AckedFile { get; init; }
    /// <summary>File for every answer's slot and latency (when in the run the slow answers were); null: not written.</summary>
    public string? LatencyLogFile { get; init; }
    /// <summary>Answers to messages due this early in the run are left out of the latency percentiles (the generator's own warm-up).</summary>
    public TimeSpan LatencySkip { get; init; }
    /// <summary>Send through <c>/Messaging.svc</c> (SOAP 1.1) instead of <c>POST /messages</c>.</summary>
    public bool Soap { get; init; }

    public bool OpenLoop => Rate is not null;

    /// <summary>Parses the command line; <paramref name="options"/> is null (and no error) for <c>--help</c>.</summary>
    public static bool TryParse(string[] args, out LoadOptions? options, out string? error)
    {
        options = null;
        error = null;
        var values = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        string? current = null;
        foreach (var arg in args)
        {
            if (arg is "--help" or "-h")
            {
                return true;
            }

            if (arg == "--soap")
            {
                values["soap"] = ["true"];
                current = null;
            }
            else if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                var equals = arg.IndexOf('=', StringComparison.Ordinal);
                current = equals < 0 ? arg[2..] : arg[2..equals];
                if (!values.TryGetValue(current, out var list))
                {
                    values[current] = list = [];
                }

                if (equals >= 0)
                {
                    list.Add(arg[(equals + 1)..]);
                    current = null;
                }
            }
            else if (current is not null)
            {
                values[current].Add(arg);
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

    private static LoadOptions Build(Dictionary<string, List<string>> values)
    {
        string? Single(string name)
        {
            if (!values.Remove(name, out var list))
            {
                return null;
            }

            return list.Count == 1 ? list[0] : throw new FormatException($"--{name} takes one value.");
        }

        var urls = new List<Uri>();
        if (values.Remove("url", out var urlValues))
        {
            foreach (var text in urlValues.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
            {
                if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
                {
                    throw new FormatException($"--url: '{text}' is not an http(s) URL.");
                }

                // A base with a path (http://host/relay) keeps it: /messages is resolved below it.
                urls.Add(url.AbsolutePath.EndsWith('/') ? url : new Uri(url.GetLeftPart(UriPartial.Path) + "/"));
            }
        }

        var destination = Single("destination");
        var count = Single("count") is { } c ? ParseLong("count", c, min: 1) : (long?)null;
        var concurrency = Single("concurrency") is { } cc ? (int)ParseLong("concurrency", cc, min: 1, max: 100_000) : (int?)null;
        var rate = Single("rate") is { } r ? ParseRate(r) : (double?)null;
        var duration = Single("duration") is { } d ? ParseDuration("duration", d) : (TimeSpan?)null;
        var options = new LoadOptions
        {
            Urls = urls,
            Destination = destination ?? "",
            Count = count ?? (rate is null && duration is null ? 1000 : null),
            Concurrency = concurrency ?? 16,
            Rate = rate,
            Duration = duration,
            MaxInFlight = Single("max-in-flight") is { } mif ? (int)ParseLong("max-in-flight", mif, min: 1, max: 1_000_000) : 4096,
            Contract = Single("contract"),
            PayloadBytes = Single("payload-bytes") is { } p ? (int)ParseLong("payload-bytes", p, min: 1, max: 64 * 1024 * 1024) : 100,
            IdPrefix = Single("id-prefix") ?? "lg-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)),
            ApiKey = Single("api-key"),
            Timeout = Single("timeout") is { } t ? ParseDuration("timeout", t) : TimeSpan.FromSeconds(30),
            JsonFile = Single("json"),
            AckedFile = Single("acked"),
            LatencyLogFile = Single("latency-log"),
            LatencySkip = Single("latency-skip") is { } skip ? ParseDuration("latency-skip", skip, allowZero: true) : TimeSpan.Zero,
            Soap = Single("soap") is not null,
            Progress = Single("progress") is { } pr ? ParseDuration("progress", pr, allowZero: true) : TimeSpan.FromSeconds(5),
        };

        if (values.Count > 0)
        {
            throw new FormatException($"Unknown option --{values.Keys.First()}.");
        }

        if (urls.Count == 0)
        {
            throw new FormatException("--url is required.");
        }

        if (string.IsNullOrWhiteSpace(options.Destination))
        {
            throw new FormatException("--destination is required.");
        }

        if (rate is not null && concurrency is not null)
        {
            throw new FormatException("--concurrency (closed loop) and --rate (open loop) exclude each other.");
        }

        if (rate is not null && duration is null && count is null)
        {
            throw new FormatException("--rate needs --duration or --count: an open loop has to end somewhere.");
        }

        return options;
    }

    /// <summary>Messages this run sends at most: the count, or what the rate sends in the duration; null: no bound but time.</summary>
    public long? Total =>
        Rate is { } rate && Duration is { } duration
            ? Math.Min(Count ?? long.MaxValue, (long)Math.Ceiling(rate * duration.TotalSeconds))
            : Count;

    private static long ParseLong(string name, string text, long min, long max = long.MaxValue)
    {
        // Underscores and commas allowed as digit group separators: --count 200_000.
        var digits = text.Replace("_", "", StringComparison.Ordinal).Replace(",", "", StringComparison.Ordinal);
        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw new FormatException($"--{name}: '{text}' is not a whole number from {min} to {max}.");
    }

    private static double ParseRate(string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var rate) && rate > 0 && double.IsFinite(rate)
            ? rate
            : throw new FormatException($"--rate: '{text}' is not a positive number of messages a second.");

    private static TimeSpan ParseDuration(string name, string text, bool allowZero = false)
    {
        TimeSpan value;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && double.IsFinite(seconds))
        {
            value = TimeSpan.FromSeconds(seconds);
        }
        else if (!TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out value))
        {
            throw new FormatException($"--{name}: '{text}' is neither seconds nor hh:mm:ss.");
        }

        return value > TimeSpan.Zero || (allowZero && value == TimeSpan.Zero)
            ? value
            : throw new FormatException($"--{name} must be more than zero.");
    }
}
