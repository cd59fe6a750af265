using System.Runtime.InteropServices;
using Telemetry.Contracts.Aggregates;

namespace Telemetry.Grains.Aggregates;

/// <summary>
/// Adds pings to an aggregate's series (a <see cref="SeriesKey"/> → dense accumulator dictionary
/// and the metric layouts, both owned by the caller). Lookups go through an index by dimensions,
/// then by (metric, label, process), so a ping's dimensions are hashed once, not once per
/// histogram. The first layout seen for a metric wins; instances of another bucket count are
/// skipped and counted.
/// </summary>
public sealed class SeriesTable
{
    private readonly Dictionary<SeriesKey, HistogramAccumulator> _series;
    private readonly Dictionary<string, MetricLayout> _layouts;
    private readonly Dictionary<Dims, Dictionary<MetricKey, HistogramAccumulator>> _index = new();
    private Dictionary<string, List<SeriesKey>>? _byMetric;

    private readonly record struct Dims(string Application, string Architecture, string Os, string OsVersion);

    private readonly record struct MetricKey(string Metric, string Label, string Process);

    public SeriesTable(Dictionary<SeriesKey, HistogramAccumulator> series, Dictionary<string, MetricLayout> layouts)
    {
        _series = series;
        _layouts = layouts;
        foreach (var (key, acc) in series)
        {
            ByMetricOf(new Dims(key.Application, key.Architecture, key.Os, key.OsVersion))[new MetricKey(key.Metric, key.Label, key.Process)] = acc;
        }
    }

    /// <summary>Adds one ping; returns the number of histogram instances skipped for a bucket count that differs from the metric's layout.</summary>
    public int Add(PingHistograms ping)
    {
        var dims = new Dims(ping.Application, ping.Architecture, ping.Os, ping.OsVersion);
        var byMetric = ByMetricOf(dims);
        var buckets = ping.Buckets;
        var pairCounts = ping.Counts;
        int mismatched = 0;
        int start = 0;
        for (int i = 0; i < ping.Metrics.Length; i++)
        {
            int end = ping.Ends[i];
            var layout = ping.Layouts[i];
            var key = new MetricKey(ping.Metrics[i], ping.Labels[i], SeriesProcess.Name(ping.Processes[i]));
            ref var acc = ref CollectionsMarshal.GetValueRefOrAddDefault(byMetric, key, out bool exists);
            if (!exists)
            {
                if (_layouts.TryGetValue(key.Metric, out var known) && known.BucketCount != layout.BucketCount)
                {
                    byMetric.Remove(key);
                    mismatched++;
                    start = end;
                    continue;
                }
                _layouts.TryAdd(key.Metric, layout);
                acc = new HistogramAccumulator(layout.BucketCount);
                var seriesKey = new SeriesKey
                {
                    Metric = key.Metric,
                    Label = key.Label,
                    Process = key.Process,
                    Application = dims.Application,
                    Architecture = dims.Architecture,
                    Os = dims.Os,
                    OsVersion = dims.OsVersion,
                };
                _series[seriesKey] = acc;
                if (_byMetric is not null)
                {
                    AddToMetricIndex(_byMetric, seriesKey);
                }
            }
            else if (acc!.Counts.Length != layout.BucketCount)
            {
                mismatched++;
                start = end;
                continue;
            }
            var counts = acc.Counts;
            for (int k = start; k < end; k++)
            {
                int b = buckets[k];
                if ((uint)b < (uint)counts.Length)
                {
                    counts[b] += pairCounts[k];
                }
            }
            acc.Sum += ping.Sums[i];
            acc.Count++;
            start = end;
        }
        return mismatched;
    }

    /// <summary>The series of <paramref name="metric"/> (for queries).</summary>
    public IReadOnlyList<SeriesKey> SeriesOf(string metric)
    {
        if (_byMetric is null)
        {
            _byMetric = new Dictionary<string, List<SeriesKey>>(StringComparer.Ordinal);
            foreach (var key in _series.Keys)
            {
                AddToMetricIndex(_byMetric, key);
            }
        }
        return _byMetric.TryGetValue(metric, out var list) ? list : [];
    }

    private Dictionary<MetricKey, HistogramAccumulator> ByMetricOf(Dims dims)
    {
        if (!_index.TryGetValue(dims, out var byMetric))
        {
            _index[dims] = byMetric = new Dictionary<MetricKey, HistogramAccumulator>();
        }
        return byMetric;
    }

    private static void AddToMetricIndex(Dictionary<string, List<SeriesKey>> index, SeriesKey key)
    {
        if (!index.TryGetValue(key.Metric, out var list))
        {
            index[key.Metric] = list = new List<SeriesKey>();
        }
        list.Add(key);
    }
}
