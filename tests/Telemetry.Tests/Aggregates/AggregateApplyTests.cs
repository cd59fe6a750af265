using System.Collections.Immutable;
using Telemetry.Contracts.Aggregates;
using Telemetry.Grains.Aggregates;

namespace Telemetry.Tests.Aggregates;

/// <summary>
/// How an aggregate takes a delta covering several batches (all or nothing), and how it adds
/// pings to its series (dense buckets, sums, counts, first layout wins).
/// </summary>
public sealed class AggregateApplyTests
{
    private static readonly MetricLayout Fifty = new() { Kind = 0, Low = 1, High = 10_000, BucketCount = 50 };
    private static readonly MetricLayout Ten = new() { Kind = 1, Low = 1, High = 10, BucketCount = 10 };

    private static PingHistograms Ping(string os, params (string Metric, string Label, MetricLayout Layout, long Sum, (int Bucket, long Count)[] Pairs)[] entries)
    {
        var ends = new int[entries.Length];
        int used = 0;
        for (int i = 0; i < entries.Length; i++)
        {
            used += entries[i].Pairs.Length;
            ends[i] = used;
        }
        return new PingHistograms
        {
            Application = "Firefox",
            Architecture = "x86-64",
            Os = os,
            OsVersion = "10.0",
            Metrics = entries.Select(e => e.Metric).ToArray(),
            Labels = entries.Select(e => e.Label).ToArray(),
            Processes = new byte[entries.Length],
            Sums = entries.Select(e => e.Sum).ToArray(),
            Layouts = entries.Select(e => e.Layout).ToArray(),
            Ends = ends,
            Buckets = entries.SelectMany(e => e.Pairs.Select(p => p.Bucket)).ToArray(),
            Counts = entries.SelectMany(e => e.Pairs.Select(p => p.Count)).ToArray(),
        };
    }

    [Fact]
    public void A_multi_batch_delta_is_taken_only_when_none_of_its_batches_is_held()
    {
        var all = new Dictionary<int, PartitionProgress>();
        var progress = PartitionProgress.Of(all, 3, partitionCheckpoint: 10);

        Assert.Equal(ApplyOutcome.AlreadyApplied, progress.TryApplyAll([9, 10])); // at or below the checkpoint
        Assert.Equal(ApplyOutcome.Applied, progress.TryApplyAll([11, 12, 14]));
        Assert.Equal(ApplyOutcome.AlreadyApplied, progress.TryApplyAll([12]));
        Assert.Equal(ApplyOutcome.Partial, progress.TryApplyAll([13, 14]));
        // A partial delta records nothing: 13 alone is still taken afterwards.
        Assert.Equal(ApplyOutcome.Applied, progress.TryApplyAll([13]));
        Assert.Equal([15], progress.Missing([13, 14, 15]).ToArray());
    }

    [Fact]
    public void Pings_are_added_per_series_with_sums_and_instance_counts()
    {
        var series = new Dictionary<SeriesKey, HistogramAccumulator>();
        var layouts = new Dictionary<string, MetricLayout>(StringComparer.Ordinal);
        var table = new SeriesTable(series, layouts);

        Assert.Equal(0, table.Add(Ping("WINNT", ("GC_MS", "", Fifty, 30, [(2, 1), (5, 2)]), ("KEYED", "a", Ten, 4, [(1, 4)]))));
        Assert.Equal(0, table.Add(Ping("WINNT", ("GC_MS", "", Fifty, 12, [(2, 3)]))));
        Assert.Equal(0, table.Add(Ping("Linux", ("GC_MS", "", Fifty, 7, [(49, 1)]))));

        Assert.Equal(3, series.Count);
        var windows = series.Single(kv => kv.Key.Metric == "GC_MS" && kv.Key.Os == "WINNT").Value;
        Assert.Equal(50, windows.Counts.Length);
        Assert.Equal(4, windows.Counts[2]);
        Assert.Equal(2, windows.Counts[5]);
        Assert.Equal(42, windows.Sum);
        Assert.Equal(2, windows.Count);
        var keyed = series.Single(kv => kv.Key.Metric == "KEYED").Key;
        Assert.Equal(("a", "parent"), (keyed.Label, keyed.Process));
        Assert.Equal(["GC_MS", "KEYED"], layouts.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(2, table.SeriesOf("GC_MS").Count);

        // A table built over existing series (a reactivated grain) keeps adding to them.
        var again = new SeriesTable(series, layouts);
        again.Add(Ping("Linux", ("GC_MS", "", Fifty, 1, [(49, 2)])));
        Assert.Equal(3, series.Single(kv => kv.Key.Os == "Linux").Value.Counts[49]);
    }

    [Fact]
    public void An_instance_with_another_bucket_count_than_the_metric_is_skipped_and_counted()
    {
        var series = new Dictionary<SeriesKey, HistogramAccumulator>();
        var layouts = new Dictionary<string, MetricLayout>(StringComparer.Ordinal);
        var table = new SeriesTable(series, layouts);
        table.Add(Ping("WINNT", ("GC_MS", "", Fifty, 1, [(1, 1)])));

        // Same series, other layout; and a new series (other OS) of the same metric with the other layout.
        Assert.Equal(1, table.Add(Ping("WINNT", ("GC_MS", "", Ten, 1, [(1, 1)]))));
        Assert.Equal(1, table.Add(Ping("Linux", ("GC_MS", "", Ten, 1, [(1, 1)]), ("OTHER", "", Ten, 2, [(3, 1)]))));

        Assert.Equal(2, series.Count); // GC_MS/WINNT and OTHER/Linux
        Assert.Equal(1, series.Single(kv => kv.Key.Metric == "GC_MS").Value.Count);
        Assert.Equal(50, layouts["GC_MS"].BucketCount);
        // A bucket index outside the layout (a malformed peer message) is ignored, not thrown on.
        Assert.Equal(0, table.Add(Ping("WINNT", ("GC_MS", "", Fifty, 1, [(50, 9), (-1, 9)]))));
        Assert.Equal(2, series.Single(kv => kv.Key.Metric == "GC_MS").Value.Count);
    }

    [Fact]
    public void The_positional_shortcut_follows_pings_whose_entries_change_order_or_layout()
    {
        // SeriesTable remembers where the previous ping's i-th entry went: a next ping with other
        // entries at the same positions, or a layout that no longer fits, must still land right.
        var series = new Dictionary<SeriesKey, HistogramAccumulator>();
        var layouts = new Dictionary<string, MetricLayout>(StringComparer.Ordinal);
        var table = new SeriesTable(series, layouts);
        table.Add(Ping("WINNT", ("A", "", Fifty, 1, [(1, 1)]), ("B", "", Ten, 2, [(2, 1)])));
        table.Add(Ping("WINNT", ("B", "", Ten, 3, [(2, 1)]), ("A", "", Fifty, 4, [(1, 1)]))); // swapped
        table.Add(Ping("WINNT", ("B", "x", Ten, 5, [(3, 1)]))); // same metric, other label at position 0
        Assert.Equal(1, table.Add(Ping("WINNT", ("A", "", Ten, 6, [(1, 1)])))); // known series, other bucket count
        table.Add(Ping("WINNT", (new string('A', 1), "", Fifty, 7, [(1, 1)]))); // equal name, another string instance

        var a = series.Single(kv => kv.Key.Metric == "A").Value;
        Assert.Equal((12L, 3L, 3L), (a.Sum, a.Count, a.Counts[1]));
        var b = series.Single(kv => kv.Key.Metric == "B" && kv.Key.Label == "").Value;
        Assert.Equal((5L, 2L, 2L), (b.Sum, b.Count, b.Counts[2]));
        Assert.Equal(5L, series.Single(kv => kv.Key.Label == "x").Value.Sum);
        Assert.Equal(3, series.Count);
    }
}
