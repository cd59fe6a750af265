using System.Runtime.InteropServices;
using Telemetry.Contracts.Aggregates;

namespace Telemetry.Grains.Aggregates;

/// <summary>
/// Adds pings to an aggregate's series (a <see cref="SeriesKey"/> → dense accumulator dictionary
/// and the metric layouts, both owned by the caller). Lookups go through an index by dimensions,
/// then by (metric, label, process), so a ping's dimensions are hashed once, not once per
/// histogram. The first layout seen for a metric wins; instances of another bucket count are
/// skipped and counted.
/// Pings of one population carry the same histograms in the same order, so each dimensions entry
/// also remembers the series the previous ping's i-th entry went to: when the next ping's i-th
/// entry names the same series (an ordinal string comparison), the hash lookup is skipped
/// (docs/ingest-cost.md).
/// </summary>
public sealed class SeriesTable
{
    private readonly Dictionary<SeriesKey, HistogramAccumulator> _series;
    private readonly Dictionary<string, MetricLayout> _layouts;
    private readonly Dictionary<Dims, DimsEntry> _index = new();
    private Dictionary<string, List<SeriesKey>>? _byMetric;

    private readonly record struct Dims(string Application, string Architecture, string Os, string OsVersion);

    private readonly record struct MetricKey(string Metric, string Label, string Process);

    private sealed class DimsEntry
    {
        public readonly Dictionary<MetricKey, HistogramAccumulator> ByMetric = new();
        // Entry i of the last ping added with these dimensions, and the accumulator it went to.
        public MetricKey[] LastKeys = [];
        public HistogramAccumulator?[] LastAccumulators = [];
    }

    public SeriesTable(Dictionary<SeriesKey, HistogramAccumulator> series, Dictionary<string, MetricLayout> layouts)
    {
        _series = series;
        _layouts = layouts;
        foreach (var (key, acc) in series)
        {
            EntryOf(new Dims(key.Application, key.Architecture, key.Os, key.OsVersion)).ByMetric[new MetricKey(key.Metric, key.Label, key.Process)] = acc;
        }
    }

    /// <summary>Adds one ping; returns the number of histogram instances skipped for a bucket count that differs from the metric's layout.</summary>
    public int Add(PingHistograms ping)
    {
        var dims = new Dims(ping.Application, ping.Architecture, ping.Os, ping.OsVersion);
        var entry = EntryOf(dims);
        var byMetric = entry.ByMetric;
        int entries = ping.Metrics.Length;
        if (entry.LastKeys.Length < entries)
        {
            Array.Resize(ref entry.LastKeys, entries);
            Array.Resize(ref entry.LastAccumulators, entries);
        }
        var lastKeys = entry.LastKeys;
        var lastAccumulators = entry.LastAccumulators;
        var buckets = ping.Buckets;
        var pairCounts = ping.Counts;
        int mismatched = 0;
        int start = 0;
        for (int i = 0; i < entries; i++)
        {
            int end = ping.Ends[i];
            var layout = ping.Layouts[i];
            var key = new MetricKey(ping.Metrics[i], ping.Labels[i], SeriesProcess.Name(ping.Processes[i]));
            HistogramAccumulator? acc = lastAccumulators[i];
            if (acc is null || !lastKeys[i].Equals(key))
            {
                acc = Find(byMetric, dims, in key, layout);
                lastKeys[i] = key;
                lastAccumulators[i] = acc; // null when skipped: the next ping looks it up again
                if (acc is null)
                {
                    mismatched++;
                    start = end;
                    continue;
                }
            }
            if (acc.Counts.Length != layout.BucketCount)
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

    /// <summary>The accumulator of a series, created when new; null when a new series' bucket count differs from its metric's layout.</summary>
    private HistogramAccumulator? Find(Dictionary<MetricKey, HistogramAccumulator> byMetric, in Dims dims, in MetricKey key, MetricLayout layout)
    {
        ref var acc = ref CollectionsMarshal.GetValueRefOrAddDefault(byMetric, key, out bool exists);
        if (exists)
        {
            return acc;
        }
        if (_layouts.TryGetValue(key.Metric, out var known) && known.BucketCount != layout.BucketCount)
        {
            byMetric.Remove(key);
            return null;
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
        return acc;
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

    private DimsEntry EntryOf(Dims dims)
    {
        if (!_index.TryGetValue(dims, out var entry))
        {
            _index[dims] = entry = new DimsEntry();
        }
        return entry;
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
