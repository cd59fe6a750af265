using System.Collections.Immutable;
using System.Globalization;

namespace Telemetry.Grains.Regressions;

/// <summary>
/// The evolution of one (channel, metric) by build date, oldest first, one histogram per date
/// (docs/regressions.md, "The series"). The bucket layout may change between dates (a probe's
/// definition changed); <see cref="LayoutId"/> tells which dates share one.
/// </summary>
public sealed class MetricSeries
{
    private readonly int[] layoutIds;

    public MetricSeries(string channel, string metric, IEnumerable<BuildDateHistogram> dates)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        ArgumentException.ThrowIfNullOrEmpty(metric);
        ArgumentNullException.ThrowIfNull(dates);
        var sorted = dates.OrderBy(d => d.BuildDate).ToImmutableArray();
        for (int i = 1; i < sorted.Length; i++)
        {
            if (sorted[i].BuildDate == sorted[i - 1].BuildDate)
            {
                throw new ArgumentException($"build date {FormatBuildDate(sorted[i].BuildDate)} appears twice", nameof(dates));
            }
        }
        Channel = channel;
        Metric = metric;
        Dates = sorted;

        // Layouts are compared once here so detectors compare small integers.
        layoutIds = new int[sorted.Length];
        var distinct = new List<ImmutableArray<long>>();
        for (int i = 0; i < sorted.Length; i++)
        {
            int id = distinct.FindIndex(b => b.AsSpan().SequenceEqual(sorted[i].LowerBounds.AsSpan()));
            if (id < 0)
            {
                id = distinct.Count;
                distinct.Add(sorted[i].LowerBounds);
            }
            layoutIds[i] = id;
        }
    }

    public string Channel { get; }

    public string Metric { get; }

    /// <summary>The build dates, oldest first, each date once.</summary>
    public ImmutableArray<BuildDateHistogram> Dates { get; }

    public int Count => Dates.Length;

    public BuildDateHistogram this[int index] => Dates[index];

    /// <summary>A small integer naming the bucket layout of date <paramref name="index"/>; equal ids mean identical lower bounds.</summary>
    public int LayoutId(int index) => layoutIds[index];

    /// <summary>Parses a build date written <c>YYYYMMDD</c> (or a build id that starts with one).</summary>
    public static DateOnly ParseBuildDate(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length < 8 || !DateOnly.TryParseExact(text.AsSpan(0, 8), "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            throw new FormatException($"'{text}' does not start with a YYYYMMDD build date");
        }
        return date;
    }

    /// <summary>A build date as the API writes it: <c>YYYYMMDD</c>.</summary>
    public static string FormatBuildDate(DateOnly date) => date.ToString("yyyyMMdd", CultureInfo.InvariantCulture);
}
