using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Relay.Fuzz;

/// <summary>
/// One fuzz run: its own destination on 127.0.0.1 (what Relay sends), the requests of <see cref="CaseGenerator"/>
/// from C workers, the oracles on every answer, and the checks after the run (nothing stored or sent for a refused
/// request, no entity fetched, the silo alive, its memory flat).
/// </summary>
internal sealed partial class FuzzRun(FuzzOptions options, TextWriter progress) : IAsyncDisposable
{
    private const int MaxFindings = 50;
    private static readonly Encoding Utf8 = new UTF8Encoding(false);

    private readonly CaseGenerator _generator = new(options);
    private readonly FuzzSink _sink = new(options.SinkPort);
    private readonly ConcurrentDictionary<string, long> _statuses = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, KindCount> _kinds = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _accepted = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _unknown = new(StringComparer.Ordinal);
    private readonly ConcurrentBag<string> _refused = [];
    private readonly ConcurrentQueue<Finding> _findings = new();
    private readonly ConcurrentDictionary<string, string> _transportSamples = new(StringComparer.Ordinal);
    private readonly List<(double Seconds, long RssBytes)> _memory = [];
    private readonly SemaphoreSlim _slow = new(4);
    private long _next;
    private long _sent;
    private long _findingCount;
    private HttpClient _api = null!;
    private HttpClient _portal = null!;
    private HttpClient _loginPage = null!;
    private string? _portalToken;
    private string? _loginToken;
    private string _tokenField = "__RequestVerificationToken";

    public async Task<FuzzReport> RunAsync(CancellationToken cancellationToken)
    {
        await _sink.StartAsync();
        _api = NewClient(cookies: false);
        _portal = NewClient(cookies: true);
        _loginPage = NewClient(cookies: true);
        await PrepareAsync(cancellationToken);

        var clock = Stopwatch.StartNew();
        using var stopSending = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (options.Duration is { } duration)
        {
            stopSending.CancelAfter(duration);
        }

        using var sampling = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var sampler = SampleMemoryAsync(clock, sampling.Token);
        var reporter = ReportProgressAsync(clock, sampling.Token);
        var workers = Enumerable.Range(0, options.Concurrency).Select(_ => WorkAsync(stopSending.Token)).ToArray();
        await Task.WhenAll(workers);
        var sendingTook = clock.Elapsed;
        await sampling.CancelAsync();
        await Task.WhenAll(sampler, reporter);

        var checks = await CheckAfterAsync(cancellationToken);
        return new FuzzReport
        {
            Seed = options.Seed,
            Requests = Interlocked.Read(ref _sent),
            Seconds = Math.Round(sendingTook.TotalSeconds, 1),
            RequestsPerSecond = Math.Round(Interlocked.Read(ref _sent) / Math.Max(0.001, sendingTook.TotalSeconds)),
            ByStatus = new SortedDictionary<string, long>(_statuses, StringComparer.Ordinal),
            ByKind = new SortedDictionary<string, KindCount>(_kinds, StringComparer.Ordinal),
            Checks = checks,
            Memory = MemoryFigures(),
            TransportErrors = new SortedDictionary<string, string>(_transportSamples, StringComparer.Ordinal),
            FindingCount = Interlocked.Read(ref _findingCount),
            Findings = [.. _findings],
        };
    }

    public async ValueTask DisposeAsync()
    {
        _api?.Dispose();
        _portal?.Dispose();
        _loginPage?.Dispose();
        await _sink.DisposeAsync();
        _slow.Dispose();
    }

    private HttpClient NewClient(bool cookies)
    {
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = options.Concurrency + 8,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            AllowAutoRedirect = false,
            UseCookies = cookies,
            CookieContainer = new CookieContainer(),
            // Header values as the generator wrote them (UTF-8), not refused by the client's own rules.
            RequestHeaderEncodingSelector = (_, _) => Utf8,
            ConnectTimeout = TimeSpan.FromSeconds(10),
        };
        return new HttpClient(handler) { BaseAddress = options.Url, Timeout = TimeSpan.FromSeconds(20) };
    }

    /// <summary>Dead letters for the portal's forms to act on, and the portal's sign-in and antiforgery tokens.</summary>
    private async Task PrepareAsync(CancellationToken cancellationToken)
    {
        for (var k = 0; k < 8; k++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "messages")
            {
                Content = new StringContent(
                    JsonSerializer.Serialize(new Dictionary<string, string> { ["id"] = _generator.DeadId(k), ["destination"] = options.DeadDestination, ["payload"] = "dead" }),
                    Utf8, "application/json"),
            };
            AddKey(request, options.SenderKey ?? options.OperatorKey);
            using var response = await _api.SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"Could not send the dead letters the portal's forms act on: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
            }
        }

        if (options.OperatorKey is { } key)
        {
            var loginToken = await TokenAsync(_portal, "portal/login", cancellationToken)
                ?? throw new InvalidOperationException("The portal's sign-in page has no antiforgery field.");
            using var signIn = await _portal.PostAsync("portal/login", new FormUrlEncodedContent(
            [
                KeyValuePair.Create("key", key), KeyValuePair.Create(_tokenField, loginToken),
            ]), cancellationToken);
            if ((int)signIn.StatusCode >= 400)
            {
                throw new InvalidOperationException($"The portal refused the operator key: {(int)signIn.StatusCode}.");
            }

            _loginToken = await TokenAsync(_loginPage, "portal/login", cancellationToken);
        }

        _portalToken = await TokenAsync(_portal, "portal/messages", cancellationToken);
    }

    private async Task<string?> TokenAsync(HttpClient client, string path, CancellationToken cancellationToken)
    {
        var page = await client.GetStringAsync(path, cancellationToken);
        var match = TokenField().Match(page);
        if (!match.Success)
        {
            return null;
        }

        _tokenField = match.Groups[1].Value;
        return match.Groups[2].Value;
    }

    private async Task WorkAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var index = Interlocked.Increment(ref _next) - 1;
            if (index >= options.Requests)
            {
                return;
            }

            var fuzzCase = _generator.Make(index);
            if (fuzzCase.SlowBody && !_slow.Wait(0))
            {
                fuzzCase = fuzzCase with { SlowBody = false };
            }

            try
            {
                await SendAsync(index, fuzzCase, CancellationToken.None);
            }
            finally
            {
                if (fuzzCase.SlowBody)
                {
                    _slow.Release();
                }
            }

            Interlocked.Increment(ref _sent);
        }
    }

    private async Task SendAsync(long index, FuzzCase fuzzCase, CancellationToken cancellationToken)
    {
        var client = fuzzCase.Credentials switch
        {
            Credentials.Portal or Credentials.PortalWithoutToken => _portal,
            Credentials.LoginPage => _loginPage,
            _ => _api,
        };
        string outcome;
        try
        {
            using var request = Build(fuzzCase);
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            var body = await ReadBoundedAsync(response, cancellationToken);
            outcome = Judge(index, fuzzCase, (int)response.StatusCode, body);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException or SocketException)
        {
            // The server closed the connection or did not answer in time: the outcome is unknown (not a finding by
            // itself: the silo being alive and answering is checked after the run).
            outcome = "transport:" + (ex is TaskCanceledException ? "timeout" : ex.GetType().Name);
            _transportSamples.TryAdd(fuzzCase.Kind, $"#{index}: {ex.GetBaseException().Message}");
            if (fuzzCase.TrackedId is { } id)
            {
                _unknown.TryAdd(id, 0);
            }
        }

        _statuses.AddOrUpdate($"{fuzzCase.Door.ToString().ToLowerInvariant()} {outcome}", 1, (_, n) => n + 1);
        _kinds.GetOrAdd(fuzzCase.Kind, _ => new KindCount()).Add(outcome);
    }

    private HttpRequestMessage Build(FuzzCase fuzzCase)
    {
        var request = new HttpRequestMessage(fuzzCase.Method, fuzzCase.Path);
        if (fuzzCase.Form is { } form)
        {
            var fields = form.ToList();
            var token = fuzzCase.Credentials switch
            {
                Credentials.Portal => _portalToken,
                Credentials.LoginPage => _loginToken,
                _ => null,
            };
            if (token is not null)
            {
                fields.Add(KeyValuePair.Create(_tokenField, token));
            }

            request.Content = new ByteArrayContent(Utf8.GetBytes(string.Join('&', fields.Select(f => $"{Encode(f.Key)}={Encode(f.Value)}"))));
            request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/x-www-form-urlencoded");
        }
        else if (fuzzCase.Body is { } body)
        {
            request.Content = fuzzCase.SlowBody ? new SlowContent(body) : new ByteArrayContent(body);
            if (fuzzCase.ContentType is { } type)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", type);
            }
        }

        foreach (var (name, value) in fuzzCase.Headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        switch (fuzzCase.Credentials)
        {
            case Credentials.Sender:
                AddKey(request, options.SenderKey);
                break;
            case Credentials.Wrong:
                AddKey(request, "wrong-" + fuzzCase.Kind);
                break;
        }

        return request;
    }

    private static void AddKey(HttpRequestMessage request, string? key)
    {
        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Api-Key", key);
        }
    }

    /// <summary>The oracles on one answer; returns the outcome's name for the counts.</summary>
    private string Judge(long index, FuzzCase fuzzCase, int status, byte[] body)
    {
        var outcome = status.ToString(CultureInfo.InvariantCulture);
        var text = Utf8.GetString(body);
        if (fuzzCase.Door == Door.Soap && status == 500 && SoapClientFault().IsMatch(text))
        {
            // SOAP 1.1 answers every fault with HTTP 500 (WS-I Basic Profile): a Client fault is the caller's error.
            outcome = "500-client-fault";
        }
        else if (status >= 500 && !(status == 503 && options.Allow503))
        {
            Find(index, fuzzCase, status, "a 5xx answer: " + Excerpt(text));
        }

        if (fuzzCase.MustNotEcho is { } secret && text.Contains(secret, StringComparison.Ordinal))
        {
            Find(index, fuzzCase, status, $"the answer contains '{secret}': an entity was resolved");
        }

        var accepted = status is >= 200 and < 300;
        if (fuzzCase.MustBeAccepted && !accepted && status != 429)
        {
            Find(index, fuzzCase, status, "a valid request was refused: " + Excerpt(text));
        }

        if (fuzzCase.Door is Door.Json or Door.Soap)
        {
            if (accepted)
            {
                var id = fuzzCase.Door == Door.Json ? JsonId(body) : SoapId(text);
                if (id is null)
                {
                    Find(index, fuzzCase, status, "an accepted request's answer names no message id: " + Excerpt(text));
                }
                else
                {
                    _accepted.TryAdd(id, 0);
                    if (fuzzCase.TrackedId is { } tracked && id != tracked)
                    {
                        Find(index, fuzzCase, status, $"the answer names message '{Excerpt(id)}', the request '{tracked}'");
                    }
                }
            }
            else if (fuzzCase.TrackedId is { } refused && status is >= 400 and < 500)
            {
                _refused.Add(refused);
            }
        }

        return outcome;
    }

    private void Find(long index, FuzzCase fuzzCase, int status, string what)
    {
        if (Interlocked.Increment(ref _findingCount) <= MaxFindings)
        {
            var body = fuzzCase.Body ?? Utf8.GetBytes(string.Join('&', (fuzzCase.Form ?? []).Select(f => $"{f.Key}={f.Value}")));
            _findings.Enqueue(new Finding(index, fuzzCase.Kind, fuzzCase.Path, status, what, Convert.ToBase64String(body.AsSpan(0, Math.Min(body.Length, 2048)))));
        }
    }

    private async Task<AfterChecks> CheckAfterAsync(CancellationToken cancellationToken)
    {
        // What Relay sends arrives within a few seconds of the answer; wait until the destination is quiet.
        var quiet = Stopwatch.StartNew();
        var settle = Stopwatch.StartNew();
        var last = _sink.Arrivals.Count;
        while (quiet.Elapsed < TimeSpan.FromSeconds(3) && settle.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(250, cancellationToken);
            if (_sink.Arrivals.Count != last)
            {
                last = _sink.Arrivals.Count;
                quiet.Restart();
            }
        }

        var arrivals = _sink.Arrivals.Keys.ToList();
        var deadPrefix = _generator.DeadId(0)[..^1];
        var unexpected = arrivals.Where(id => !_accepted.ContainsKey(id) && !_unknown.ContainsKey(id) && !id.StartsWith(deadPrefix, StringComparison.Ordinal)).ToList();
        foreach (var id in unexpected.Take(10))
        {
            Find(-1, new FuzzCase { Door = Door.Json, Kind = "after.arrivals", Path = "messages" }, 0, $"'{Excerpt(id)}' reached the destination but was never accepted");
        }

        foreach (var path in _sink.EntityFetches.Take(10))
        {
            Find(-1, new FuzzCase { Door = Door.Soap, Kind = "after.xxe", Path = "Messaging.svc" }, 0, $"the silo fetched {path}: an external entity was resolved");
        }

        // Refused requests: nothing stored (GET answers 404), nothing sent (not among the arrivals).
        var refused = _refused.Distinct(StringComparer.Ordinal).Where(id => !_accepted.ContainsKey(id)).ToList();
        var sample = refused.Count <= options.CheckRefused
            ? refused
            : Enumerable.Range(0, options.CheckRefused).Select(i => refused[(int)((long)i * refused.Count / options.CheckRefused)]).ToList();
        var stored = 0;
        foreach (var id in sample)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "messages/" + Encode(id));
            AddKey(request, options.OperatorKey ?? options.SenderKey);
            using var response = await _api.SendAsync(request, cancellationToken);
            if (response.StatusCode != HttpStatusCode.NotFound)
            {
                stored++;
                Find(-1, new FuzzCase { Door = Door.Json, Kind = "after.refused-stored", Path = "messages/" + id }, (int)response.StatusCode, $"refused message '{id}' is readable afterwards");
            }
        }

        var sentAnyway = refused.Count(id => _sink.Arrivals.ContainsKey(id));
        if (sentAnyway > 0)
        {
            Find(-1, new FuzzCase { Door = Door.Json, Kind = "after.refused-sent", Path = "messages" }, 0, $"{sentAnyway} refused messages reached the destination");
        }

        bool? alive = null;
        if (options.SiloPid is { } pid)
        {
            alive = Directory.Exists($"/proc/{pid}");
            if (alive == false)
            {
                Find(-1, new FuzzCase { Door = Door.Json, Kind = "after.alive", Path = "" }, 0, $"the silo (pid {pid}) is gone");
            }
        }

        int health;
        try
        {
            using var response = await _api.GetAsync("health", cancellationToken);
            health = (int)response.StatusCode;
        }
        catch (HttpRequestException)
        {
            health = 0;
        }

        if (health != 200)
        {
            Find(-1, new FuzzCase { Door = Door.Json, Kind = "after.health", Path = "health" }, health, "the silo does not answer /health with 200 after the run");
        }

        return new AfterChecks(_accepted.Count, arrivals.Count, unexpected.Count, refused.Count, sample.Count, stored, sentAnyway, _sink.EntityFetches.Count, _unknown.Count, alive, health);
    }

    private async Task SampleMemoryAsync(Stopwatch clock, CancellationToken cancellationToken)
    {
        if (options.SiloPid is not { } pid)
        {
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                var status = await File.ReadAllLinesAsync($"/proc/{pid}/status", cancellationToken);
                var line = status.FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
                if (line is not null)
                {
                    var kb = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
                    lock (_memory)
                    {
                        _memory.Add((clock.Elapsed.TotalSeconds, kb * 1024));
                    }
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            // Stopped, or the process is gone (the after-run check reports that).
        }
    }

    private MemoryFigures? MemoryFigures()
    {
        List<(double Seconds, long RssBytes)> samples;
        lock (_memory)
        {
            samples = [.. _memory];
        }

        if (samples.Count < 8)
        {
            return null;
        }

        static double MedianMb(IEnumerable<(double, long Rss)> part)
        {
            var sorted = part.Select(s => s.Rss).Order().ToList();
            return Math.Round(sorted[sorted.Count / 2] / 1048576.0, 1);
        }

        var quarter = samples.Count / 4;
        var second = MedianMb(samples.Skip(quarter).Take(quarter));
        var fourth = MedianMb(samples.Skip(3 * quarter));
        var figures = new MemoryFigures(samples.Count, second, fourth, Math.Round(samples.Max(s => s.RssBytes) / 1048576.0, 1), Math.Round(fourth / second, 2));
        if (figures.Growth > options.MaxRssGrowth)
        {
            Find(-1, new FuzzCase { Door = Door.Json, Kind = "after.memory", Path = "" }, 0, $"the silo's RSS grew {figures.Growth}x from the run's second quarter to its last ({second} → {fourth} MiB)");
        }

        return figures;
    }

    private async Task ReportProgressAsync(Stopwatch clock, CancellationToken cancellationToken)
    {
        if (options.Progress <= TimeSpan.Zero)
        {
            return;
        }

        using var timer = new PeriodicTimer(options.Progress);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                var sent = Interlocked.Read(ref _sent);
                await progress.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{clock.Elapsed.TotalSeconds,6:F0} s  {sent,9:N0} requests  {sent / clock.Elapsed.TotalSeconds,6:F0}/s  findings {Interlocked.Read(ref _findingCount)}"));
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task<byte[]> ReadBoundedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[64 * 1024];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
        {
            length += read;
        }

        return buffer[..length];
    }

    private static string? JsonId(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String
                ? id.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? SoapId(string text)
    {
        var match = SoapIdElement().Match(text);
        return match.Success ? WebUtility.HtmlDecode(match.Groups[1].Value) : null;
    }

    /// <summary>Percent-encodes the UTF-8 bytes of a form field or path segment (a lone surrogate becomes U+FFFD).</summary>
    private static string Encode(string value)
    {
        var builder = new StringBuilder();
        foreach (var b in Utf8.GetBytes(value))
        {
            if (b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'0' and <= (byte)'9') or (byte)'-' or (byte)'_' or (byte)'.' or (byte)'~')
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append(CultureInfo.InvariantCulture, $"%{b:X2}");
            }
        }

        return builder.ToString();
    }

    private static string Excerpt(string text) => text.Length <= 300 ? text : text[..300] + "…";

    /// <summary>The antiforgery field the portal's forms carry (its name is the silo's, e.g. <c>__relay_csrf</c>).</summary>
    [GeneratedRegex("<input name=\"([^\"]*(?:csrf|RequestVerificationToken)[^\"]*)\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex TokenField();

    [GeneratedRegex(@"<faultcode[^>]*>[^<]*Client</faultcode>")]
    private static partial Regex SoapClientFault();

    [GeneratedRegex(@"<(?:\w+:)?Id>([^<]*)</(?:\w+:)?Id>")]
    private static partial Regex SoapIdElement();

    /// <summary>A body written a few bytes at a time (10 bytes every 20 ms, at most 2 s): a slow client.</summary>
    private sealed class SlowContent(byte[] body) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            var chunk = Math.Max(10, body.Length / 100);
            for (var at = 0; at < body.Length; at += chunk)
            {
                await stream.WriteAsync(body.AsMemory(at, Math.Min(chunk, body.Length - at)), cancellationToken);
                await stream.FlushAsync(cancellationToken);
                await Task.Delay(20, cancellationToken);
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = body.Length;
            return true;
        }
    }
}
