using System.Globalization;
using System.Text;
using Relay.Core.Storage;

namespace Relay.Silo.Portal;

/// <summary>
/// A destination's attempts over the last hour as a small inline SVG bar chart: succeeded (green) under failed (red),
/// one bar per window. Made on the server from numbers only, so it is safe to write into the page as it is.
/// </summary>
public sealed class AttemptChart
{
    private const int Width = 240;
    private const int Height = 48;

    private AttemptChart(long[] succeeded, long[] failed)
    {
        Succeeded = succeeded;
        Failed = failed;
    }

    public IReadOnlyList<long> Succeeded { get; }

    public IReadOnlyList<long> Failed { get; }

    public long TotalSucceeded => Succeeded.Sum();

    public long TotalFailed => Failed.Sum();

    public static AttemptChart Of(IEnumerable<AttemptBucket> buckets, int windows)
    {
        var succeeded = new long[windows];
        var failed = new long[windows];
        foreach (var bucket in buckets)
        {
            if (bucket.Bucket >= 0 && bucket.Bucket < windows)
            {
                succeeded[bucket.Bucket] += bucket.Succeeded;
                failed[bucket.Bucket] += bucket.Failed;
            }
        }

        return new AttemptChart(succeeded, failed);
    }

    /// <summary>The SVG markup; every value in it is a number this class computed.</summary>
    public string ToSvg()
    {
        var windows = Succeeded.Count;
        var max = Math.Max(1, Enumerable.Range(0, windows).Max(i => Succeeded[i] + Failed[i]));
        var slot = (double)Width / windows;
        var bar = Math.Max(1, slot - 2);
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture,
            $"<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" role=\"img\" aria-label=\"attempts in the last hour: {TotalSucceeded} succeeded, {TotalFailed} failed\">");
        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"0\" y1=\"{Height - 0.5}\" x2=\"{Width}\" y2=\"{Height - 0.5}\" stroke=\"#cbd5e1\" stroke-width=\"1\"/>");
        for (var i = 0; i < windows; i++)
        {
            var x = i * slot + 1;
            var okHeight = Height * (double)Succeeded[i] / max;
            var failHeight = Height * (double)Failed[i] / max;
            if (okHeight > 0)
            {
                svg.Append(CultureInfo.InvariantCulture,
                    $"<rect x=\"{x:0.##}\" y=\"{Height - okHeight:0.##}\" width=\"{bar:0.##}\" height=\"{okHeight:0.##}\" fill=\"#16a34a\"><title>{Succeeded[i]} succeeded</title></rect>");
            }

            if (failHeight > 0)
            {
                svg.Append(CultureInfo.InvariantCulture,
                    $"<rect x=\"{x:0.##}\" y=\"{Height - okHeight - failHeight:0.##}\" width=\"{bar:0.##}\" height=\"{failHeight:0.##}\" fill=\"#dc2626\"><title>{Failed[i]} failed</title></rect>");
            }
        }

        svg.Append("</svg>");
        return svg.ToString();
    }
}
