namespace Relay.Silo.Tests.Telemetry;

/// <summary>One sample of a scrape: <c>name{label="value",...} 12.5</c>.</summary>
public sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public bool Has(params (string Label, string Value)[] labels) =>
        labels.All(l => Labels.TryGetValue(l.Label, out var v) && v == l.Value);
}

/// <summary>
/// A parsed scrape in the Prometheus text exposition format (version 0.0.4): the samples, and the type each metric
/// family declares. Enough of the format for the tests: comments, labels with escapes, NaN and infinities.
/// </summary>
public sealed class PrometheusText
{
    private PrometheusText(IReadOnlyList<PrometheusSample> samples, IReadOnlyDictionary<string, string> types)
    {
        Samples = samples;
        Types = types;
    }

    public IReadOnlyList<PrometheusSample> Samples { get; }

    /// <summary>Metric family → <c>counter</c>, <c>gauge</c>, <c>histogram</c>...</summary>
    public IReadOnlyDictionary<string, string> Types { get; }

    /// <summary>The sum of the samples of <paramref name="name"/> matching <paramref name="labels"/>; 0 when there is none.</summary>
    public double Value(string name, params (string Label, string Value)[] labels) =>
        Samples.Where(s => s.Name == name && s.Has(labels)).Sum(s => s.Value);

    public bool Contains(string name, params (string Label, string Value)[] labels) =>
        Samples.Any(s => s.Name == name && s.Has(labels));

    public static PrometheusText Parse(string text)
    {
        var samples = new List<PrometheusSample>();
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0)
            {
                continue;
            }

            if (line.StartsWith('#'))
            {
                var parts = line.Split(' ', 4, StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length >= 4 && parts[1] == "TYPE")
                {
                    types[parts[2]] = parts[3].Trim();
                }

                continue;
            }

            samples.Add(ParseSample(line));
        }

        return new PrometheusText(samples, types);
    }

    private static PrometheusSample ParseSample(string line)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        var i = 0;
        while (i < line.Length && line[i] is not ('{' or ' '))
        {
            i++;
        }

        var name = line[..i];
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (line[i] != '}')
            {
                var eq = line.IndexOf('=', i);
                var label = line[i..eq].Trim();
                i = eq + 1;
                if (line[i] != '"')
                {
                    throw new FormatException($"Label value not quoted: {line}");
                }

                i++;
                var value = new StringBuilder();
                while (line[i] != '"')
                {
                    if (line[i] == '\\')
                    {
                        i++;
                        value.Append(line[i] switch { 'n' => '\n', var c => c });
                    }
                    else
                    {
                        value.Append(line[i]);
                    }

                    i++;
                }

                labels[label] = value.ToString();
                i++;
                if (line[i] == ',')
                {
                    i++;
                }
            }

            i++;
        }

        // The value, then an optional timestamp.
        var rest = line[i..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var number = rest[0] switch
        {
            "+Inf" => double.PositiveInfinity,
            "-Inf" => double.NegativeInfinity,
            "NaN" => double.NaN,
            var v => double.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture),
        };
        return new PrometheusSample(name, labels, number);
    }
}
