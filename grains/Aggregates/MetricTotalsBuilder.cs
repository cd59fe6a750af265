using System.Collections.Immutable;
using Telemetry.Contracts.Aggregates;

namespace Telemetry.Grains.Aggregates;

/// <summary>
/// Sums an aggregate's series per metric over every other dimension: the input of histogram-regression
/// detection (docs/regressions.md, "Feeding the series"). Reads only; the aggregate's content is unchanged.
/// </summary>
public static class MetricTotalsBuilder
{
    /// <summary>One total per metric that has a layout, ordered by metric name; series of another bucket count are left out.</summary>
    public static ImmutableArray<MetricTotal> Sum(IReadOnlyDictionary<SeriesKey, HistogramAccumulator> series, IReadOnlyDictionary<string, MetricLayout> layouts)
    {
        var sums = new Dictionary<string, (long[] Counts, long Instances)>(StringComparer.Ordinal);
        foreach (var (key, acc) in series)
        {
            if (!layouts.TryGetValue(key.Metric, out var layout) || acc.Counts.Length != layout.BucketCount)
            {
                continue;
            }
            if (!sums.TryGetValue(key.Metric, out var sum))
            {
                sum = (new long[layout.BucketCount], 0);
            }
            var counts = sum.Counts;
            for (int k = 0; k < counts.Length; k++)
            {
                counts[k] += acc.Counts[k];
            }
            sums[key.Metric] = (counts, sum.Instances + acc.Count);
        }
        var result = ImmutableArray.CreateBuilder<MetricTotal>(sums.Count);
        foreach (var (metric, sum) in sums.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            result.Add(new MetricTotal
            {
                Metric = metric,
                Layout = layouts[metric],
                Counts = ImmutableArray.Create(sum.Counts),
                Instances = sum.Instances,
            });
        }
        return result.MoveToImmutable();
    }
}
