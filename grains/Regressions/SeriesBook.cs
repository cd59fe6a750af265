using System.Collections.Immutable;
using Telemetry.Contracts.Aggregates;
using Telemetry.Contracts.Regressions;
using Telemetry.Grains.Probes;

namespace Telemetry.Grains.Regressions;

/// <summary>
/// The parts a series grain holds, one per build-date aggregate (docs/regressions.md, "Feeding the series"),
/// and the <see cref="MetricSeries"/> they make. Parts are only ever replaced whole, never added to: a
/// part read twice, or sent again after a crash, leaves the series as it was.
/// </summary>
public sealed class SeriesBook(Dictionary<string, SeriesPart> parts)
{
    private MetricSeries? _built;

    /// <summary>Changes whenever a part is replaced or dropped (in memory only: detection results are cached by it).</summary>
    public long Version { get; private set; }

    public int Count => parts.Count;

    /// <summary>
    /// Takes <paramref name="incoming"/> (replacing the parts of the same aggregates), drops the parts of aggregates
    /// not in <paramref name="manifest"/> (their build date left the window, or the metric left the aggregate), and
    /// returns the aggregates of the manifest still missing or held at another data version.
    /// </summary>
    public ImmutableArray<string> Sync(ImmutableArray<PartStamp> manifest, ImmutableArray<SeriesPart> incoming)
    {
        bool changed = false;
        foreach (var part in incoming)
        {
            if (!parts.TryGetValue(part.AggregateKey, out var held) || held.DataVersion != part.DataVersion)
            {
                parts[part.AggregateKey] = part;
                changed = true;
            }
        }
        var wanted = new Dictionary<string, long>(manifest.Length, StringComparer.Ordinal);
        foreach (var stamp in manifest)
        {
            wanted[stamp.AggregateKey] = stamp.DataVersion;
        }
        foreach (var key in parts.Keys.Where(k => !wanted.ContainsKey(k)).ToList())
        {
            parts.Remove(key);
            changed = true;
        }
        if (changed)
        {
            Version++;
            _built = null;
        }
        return [.. wanted.Where(kv => !parts.TryGetValue(kv.Key, out var held) || held.DataVersion != kv.Value).Select(kv => kv.Key).Order(StringComparer.Ordinal)];
    }

    /// <summary>
    /// The series: per build date the sum of its aggregates' parts (one per major version that had builds that
    /// day). Versions of one date rarely disagree on the layout (a definition changed on a merge day); the
    /// layout holding most samples is kept and the others' samples are left out, as the detectors compare
    /// dates of one layout only.
    /// </summary>
    public MetricSeries Build(string channel, string metric)
    {
        if (_built is not null)
        {
            return _built;
        }
        var dates = new List<BuildDateHistogram>();
        foreach (var date in parts.Values.GroupBy(p => p.BuildDate))
        {
            var best = date
                .GroupBy(p => (p.Layout.Kind, p.Layout.Low, p.Layout.High, p.Layout.BucketCount))
                .Select(g => (Layout: g.Key, Parts: g.ToList(), Total: g.Sum(p => p.Counts.Sum())))
                .OrderByDescending(g => g.Total)
                .ThenBy(g => g.Layout)
                .First();
            if (!BucketLayout.TryCreate((HistogramKind)best.Layout.Kind, best.Layout.Low, best.Layout.High, best.Layout.BucketCount, default, out var layout, out _))
            {
                // Aggregates only hold layouts decoded from definitions or pings, which were valid then.
                continue;
            }
            var counts = new long[layout.BucketCount];
            long instances = 0;
            foreach (var p in best.Parts)
            {
                for (int k = 0; k < counts.Length && k < p.Counts.Length; k++)
                {
                    counts[k] += p.Counts[k];
                }
                instances += p.Instances;
            }
            dates.Add(new BuildDateHistogram(date.Key, layout.LowerBounds, ImmutableArray.Create(counts), instances));
        }
        return _built = new MetricSeries(channel, metric, dates);
    }

    /// <summary>The part of one aggregate for a series (the coordinator's side of <see cref="Sync"/>).</summary>
    public static SeriesPart PartOf(string aggregateKey, DateOnly buildDate, long dataVersion, MetricTotal total) => new()
    {
        AggregateKey = aggregateKey,
        BuildDate = buildDate,
        DataVersion = dataVersion,
        Layout = total.Layout,
        Counts = total.Counts,
        Instances = total.Instances,
    };
}
