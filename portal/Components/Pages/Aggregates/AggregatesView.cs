using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Telemetry.Portal.Services;

namespace Telemetry.Portal.Components.Pages.Aggregates;

/// <summary>One date's summary in the evolution chart and table.</summary>
public sealed record EvolutionRow(string Date, double Samples, double? Mean, ImmutableArray<double?> Percentiles);

/// <summary>One side of the comparison: a date's share of samples per bucket and its summary.</summary>
public sealed record ComparedDate(string Date, ImmutableArray<double> Shares, EvolutionRow Summary);

/// <summary>
/// What the aggregates explorer shows for one answer of the aggregates API: the histogram summed over the
/// chosen dates (and labels), the evolution of mean and percentiles per date, and optionally two dates side by
/// side. The CSV and JSON downloads are written from these same values with <see cref="Number"/>, so a download
/// holds exactly what the page shows.
/// </summary>
public sealed class AggregatesView
{
    public required string Metric { get; init; }
    public required string Kind { get; init; }
    public required string? Description { get; init; }
    public required ImmutableArray<string> Buckets { get; init; }
    public required ImmutableArray<double> Summed { get; init; }

    /// <summary>Empty for categorical histograms (string buckets): percentiles mean nothing there.</summary>
    public required ImmutableArray<EvolutionRow> Evolution { get; init; }
    public required ImmutableArray<ComparedDate> Compared { get; init; }

    public bool HasPercentiles => !Evolution.IsEmpty;

    public double Total => Summed.Sum();

    public static AggregatesView From(string metric, AggregateResult result, string? compareA = null, string? compareB = null)
    {
        int width = result.Buckets.Length;
        var summed = Sum(result.Data.Select(d => d.Histogram), width);
        var dates = result.Data.Select(d => d.Date).Distinct().ToList();
        var evolution = result.LowerBounds is { } bounds && bounds.Length == width
            ? dates.Select(date => Summary(date, result.Data.Where(d => d.Date == date).ToList(), bounds)).ToImmutableArray()
            : [];
        var compared = ImmutableArray<ComparedDate>.Empty;
        if (compareA is not null && compareB is not null && compareA != compareB && dates.Contains(compareA) && dates.Contains(compareB))
        {
            compared = [.. new[] { compareA, compareB }.Select(date =>
            {
                var entries = result.Data.Where(d => d.Date == date).ToList();
                var counts = Sum(entries.Select(e => e.Histogram), width);
                double total = counts.Sum();
                var summary = result.LowerBounds is { } b && b.Length == width
                    ? Summary(date, entries, b)
                    : new EvolutionRow(date, total, null, []);
                return new ComparedDate(date, [.. counts.Select(c => total > 0 ? c / total : 0)], summary);
            })];
        }
        return new AggregatesView
        {
            Metric = metric,
            Kind = result.Kind,
            Description = result.Description,
            Buckets = result.Buckets,
            Summed = summed,
            Evolution = evolution,
            Compared = compared,
        };
    }

    private static EvolutionRow Summary(string date, IReadOnlyList<AggregateEntry> entries, ImmutableArray<double> bounds)
    {
        var counts = Sum(entries.Select(e => e.Histogram), bounds.Length);
        var stats = new BucketPercentiles(bounds, counts);
        return new EvolutionRow(date, stats.Total, stats.Mean(entries.Sum(e => e.Sum)),
            [.. BucketPercentiles.Shown.Select(p => stats.Percentile(p))]);
    }

    private static ImmutableArray<double> Sum(IEnumerable<ImmutableArray<double>> histograms, int width)
    {
        var total = new double[width];
        foreach (var h in histograms)
        {
            for (int i = 0; i < Math.Min(width, h.Length); i++)
            {
                total[i] += h[i];
            }
        }
        return [.. total];
    }

    /// <summary>How every figure is written, on the page and in the downloads.</summary>
    public static string Number(double? value) => value is { } v ? v.ToString("0.###", CultureInfo.InvariantCulture) : "";

    public static readonly ImmutableArray<string> EvolutionColumns = ["date", "samples", "mean", "p5", "p25", "p50", "p75", "p95"];

    public ImmutableArray<string> EvolutionCells(EvolutionRow row) =>
        [row.Date, Number(row.Samples), Number(row.Mean), .. row.Percentiles.Select(Number)];

    public string HistogramCsv()
    {
        var csv = new StringBuilder("bucket,count\n");
        for (int i = 0; i < Buckets.Length; i++)
        {
            csv.Append(Csv(Buckets[i])).Append(',').Append(Number(Summed[i])).Append('\n');
        }
        return csv.ToString();
    }

    public string EvolutionCsv()
    {
        var csv = new StringBuilder(string.Join(',', EvolutionColumns)).Append('\n');
        foreach (var row in Evolution)
        {
            csv.Append(string.Join(',', EvolutionCells(row).Select(Csv))).Append('\n');
        }
        return csv.ToString();
    }

    /// <summary>Everything shown, in one document: the summed histogram, the evolution rows and the comparison.</summary>
    public string Json() => JsonSerializer.Serialize(new
    {
        metric = Metric,
        kind = Kind,
        histogram = Buckets.Select((b, i) => new { bucket = b, count = Number(Summed[i]) }),
        evolution = Evolution.Select(r => EvolutionColumns.Zip(EvolutionCells(r)).ToDictionary(p => p.First, p => p.Second)),
        compare = Compared.Select(c => new
        {
            date = c.Date,
            shares = Buckets.Select((b, i) => new { bucket = b, share = Number(c.Shares[i]) }),
        }),
    }, new JsonSerializerOptions { WriteIndented = true });

    /// <summary>A <c>data:</c> URL for a download link (no server round trip, no script).</summary>
    public static string DataUrl(string mediaType, string content) =>
        $"data:{mediaType};charset=utf-8,{Uri.EscapeDataString(content)}";

    private static string Csv(string cell) =>
        cell.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + cell.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : cell;
}
