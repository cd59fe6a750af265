using System.Collections.Immutable;

namespace Telemetry.Contracts.Aggregates;

/// <summary>The two aggregate families of the aggregates API.</summary>
public static class AggregateFamily
{
    public const string BuildId = "build_id";
    public const string SubmissionDate = "submission_date";

    public static bool IsKnown(string family) => family is BuildId or SubmissionDate;

    /// <summary>The grain key of one aggregate: family, channel, major version and date (yyyyMMdd).</summary>
    public static string GrainKey(string family, string channel, string version, string date) =>
        string.Join('\u001f', family, channel, version, date);

    /// <summary>Parses a key written by <see cref="GrainKey"/>; false for anything else.</summary>
    public static bool TryParseGrainKey(string key, out (string Family, string Channel, string Version, string Date) parts)
    {
        var split = key.Split('\u001f');
        parts = split.Length == 4 ? (split[0], split[1], split[2], split[3]) : default;
        return split.Length == 4;
    }

    public static (string Family, string Channel, string Version, string Date) ParseGrainKey(string key)
    {
        var parts = key.Split('\u001f');
        return parts.Length == 4 ? (parts[0], parts[1], parts[2], parts[3]) : throw new FormatException($"not an aggregate key: {key}");
    }
}

/// <summary>One series inside an aggregate: a metric with every dimension the API can filter on.</summary>
[GenerateSerializer, Immutable]
public readonly record struct SeriesKey
{
    [Id(0)] public required string Metric { get; init; }
    [Id(1)] public required string Label { get; init; }
    [Id(2)] public required string Process { get; init; }
    [Id(3)] public required string Application { get; init; }
    [Id(4)] public required string Architecture { get; init; }
    [Id(5)] public required string Os { get; init; }
    [Id(6)] public required string OsVersion { get; init; }
}

/// <summary>Dense bucket counts with the sum of the instances' sums and the number of instances.</summary>
[GenerateSerializer]
public sealed class HistogramAccumulator
{
    [Id(0)] public long[] Counts { get; set; } = [];
    [Id(1)] public long Sum { get; set; }
    [Id(2)] public long Count { get; set; }

    public HistogramAccumulator() { }

    public HistogramAccumulator(int buckets) => Counts = new long[buckets];

    /// <summary>Adds another accumulator of the same layout; a different bucket count is refused.</summary>
    public bool Merge(HistogramAccumulator other)
    {
        if (other.Counts.Length != Counts.Length)
        {
            return false;
        }
        for (int i = 0; i < Counts.Length; i++)
        {
            Counts[i] += other.Counts[i];
        }
        Sum += other.Sum;
        Count += other.Count;
        return true;
    }

    public HistogramAccumulator Clone() => new() { Counts = (long[])Counts.Clone(), Sum = Sum, Count = Count };
}

/// <summary>The bucket layout a metric was aggregated with (kind as its type code, docs/probes.md).</summary>
[GenerateSerializer, Immutable]
public sealed record MetricLayout
{
    [Id(0)] public required int Kind { get; init; }
    [Id(1)] public required long Low { get; init; }
    [Id(2)] public required long High { get; init; }
    [Id(3)] public required int BucketCount { get; init; }
    /// <summary>True when the metric had no definition in the ping's probe revision.</summary>
    [Id(4)] public bool Undeclared { get; init; }
}

/// <summary>
/// The dense content of an aggregate (or of a part of one): series, metric layouts and the number
/// of pings. Reprocessing builds one per aggregate and replaces the aggregate's content with it.
/// </summary>
[GenerateSerializer, Immutable]
public sealed class AggregateDelta
{
    [Id(0)] public Dictionary<SeriesKey, HistogramAccumulator> Series { get; init; } = new();
    [Id(1)] public Dictionary<string, MetricLayout> Layouts { get; init; } = new(StringComparer.Ordinal);
    [Id(2)] public long Pings { get; set; }
}

/// <summary>The process names series are kept under, by process code (0 parent, 1 content, 2 gpu).</summary>
public static class SeriesProcess
{
    private static readonly string[] Names = ["parent", "content", "gpu"];

    public static string Name(byte code) => code < Names.Length ? Names[code] : Names[0];
}

/// <summary>
/// What one ping adds to an aggregate: its dimensions and, per histogram instance (entry), the
/// metric, label, process, layout, sum and sparse (bucket, count) pairs. The same object is shared
/// by the ping's two aggregates (build id and submission date); nothing is summed before the
/// aggregate grain adds it to its series, so building a delta costs no lookups.
/// </summary>
[GenerateSerializer, Immutable]
public sealed class PingHistograms
{
    [Id(0)] public required string Application { get; init; }
    [Id(1)] public required string Architecture { get; init; }
    [Id(2)] public required string Os { get; init; }
    [Id(3)] public required string OsVersion { get; init; }
    [Id(4)] public required string[] Metrics { get; init; }
    [Id(5)] public required string[] Labels { get; init; }
    /// <summary>Process code per entry (see <see cref="SeriesProcess"/>).</summary>
    [Id(6)] public required byte[] Processes { get; init; }
    [Id(7)] public required long[] Sums { get; init; }
    [Id(8)] public required MetricLayout[] Layouts { get; init; }
    /// <summary>Entry i's pairs are <c>[Ends[i - 1], Ends[i])</c> of <see cref="Buckets"/> and <see cref="Counts"/>.</summary>
    [Id(9)] public required int[] Ends { get; init; }
    [Id(10)] public required int[] Buckets { get; init; }
    [Id(11)] public required long[] Counts { get; init; }

    public int Entries => Metrics.Length;
}

/// <summary>What an aggregate did with a delta covering one or more batches of a partition.</summary>
public enum ApplyOutcome
{
    /// <summary>None of the batches was held: the delta was added and the batches recorded.</summary>
    Applied = 0,

    /// <summary>All of the batches were already held: nothing was added.</summary>
    AlreadyApplied = 1,

    /// <summary>Some but not all were held: nothing was added; the partition must send the batches one by one.</summary>
    Partial = 2,
}

/// <summary>The answer to a partition's request to make its batches durable.</summary>
[GenerateSerializer, Immutable]
public sealed record PersistOutcome
{
    public static readonly PersistOutcome Written = new() { Durable = true };

    /// <summary>Not written yet: <paramref name="pending"/> are the expected batches still only in memory.</summary>
    public static PersistOutcome NotYet(ImmutableArray<long> pending) => new() { Durable = false, Pending = pending };

    /// <summary>Expected batches the aggregate does not hold: send them again.</summary>
    [Id(0)] public ImmutableArray<long> Missing { get; init; } = ImmutableArray<long>.Empty;

    /// <summary>True when every expected batch is in the aggregate's durable state.</summary>
    [Id(1)] public bool Durable { get; init; }

    /// <summary>When not durable: the expected batches applied but not yet written (the others are durable).</summary>
    [Id(2)] public ImmutableArray<long> Pending { get; init; } = ImmutableArray<long>.Empty;
}

/// <summary>A query for one aggregate (one date or build date): the metric and optional filters.</summary>
[GenerateSerializer, Immutable]
public sealed record AggregateQuery
{
    [Id(0)] public required string Metric { get; init; }
    [Id(1)] public string? Application { get; init; }
    [Id(2)] public string? Architecture { get; init; }
    [Id(3)] public string? Os { get; init; }
    [Id(4)] public string? OsVersion { get; init; }
    [Id(5)] public string? Label { get; init; }
    [Id(6)] public string? Process { get; init; }
}

/// <summary>The summed histogram for one label.</summary>
[GenerateSerializer, Immutable]
public sealed record LabelHistogram
{
    [Id(0)] public required string Label { get; init; }
    [Id(1)] public required ImmutableArray<long> Histogram { get; init; }
    [Id(2)] public long Sum { get; init; }
    [Id(3)] public long Count { get; init; }
}

/// <summary>The answer of one aggregate to a query.</summary>
[GenerateSerializer, Immutable]
public sealed record AggregateResult
{
    /// <summary>Changes whenever the aggregate's data changes (used for ETags).</summary>
    [Id(0)] public long DataVersion { get; init; }
    [Id(1)] public MetricLayout? Layout { get; init; }
    [Id(2)] public ImmutableArray<LabelHistogram> Labels { get; init; } = ImmutableArray<LabelHistogram>.Empty;
}

/// <summary>The dimension values seen in an aggregate.</summary>
[GenerateSerializer, Immutable]
public sealed record FilterValues
{
    [Id(0)] public ImmutableArray<string> Metrics { get; init; } = ImmutableArray<string>.Empty;
    [Id(1)] public ImmutableArray<string> Applications { get; init; } = ImmutableArray<string>.Empty;
    [Id(2)] public ImmutableArray<string> Architectures { get; init; } = ImmutableArray<string>.Empty;
    [Id(3)] public ImmutableArray<string> Os { get; init; } = ImmutableArray<string>.Empty;
    [Id(4)] public ImmutableArray<string> Processes { get; init; } = ImmutableArray<string>.Empty;
    [Id(5)] public ImmutableArray<string> UndeclaredMetrics { get; init; } = ImmutableArray<string>.Empty;
}

/// <summary>One aggregate (by build id or by submission date) for a channel, major version and date.</summary>
public interface IAggregateGrain : IGrainWithStringKey
{
    /// <summary>
    /// Adds the pings of one or more batches of a partition, unless those (partition, batch) pairs
    /// were already applied (see <see cref="ApplyOutcome"/>); <paramref name="partitionCheckpoint"/>
    /// lets it forget older batch ids.
    /// </summary>
    Task<ApplyOutcome> Apply(int partition, ImmutableArray<long> batchIds, long partitionCheckpoint, ImmutableArray<PingHistograms> pings);

    /// <summary>
    /// Makes <paramref name="expectedBatches"/> durable: reports those it does not hold (lost in an
    /// unclean restart), or whether they are written. Without <paramref name="force"/> it writes at
    /// most once per interval and may answer "not yet".
    /// </summary>
    Task<PersistOutcome> Persist(int partition, ImmutableArray<long> expectedBatches, bool force);

    /// <summary>Sums the series of a metric that match the filters, per label.</summary>
    Task<AggregateResult> Query(AggregateQuery query);

    /// <summary>Lists the dimension values seen in this aggregate.</summary>
    Task<FilterValues> GetFilters();

    /// <summary>
    /// Every metric summed over all other dimensions, or only the data version when it equals
    /// <paramref name="knownDataVersion"/> (nothing changed since the caller's last read).
    /// </summary>
    Task<MetricTotals> GetMetricTotals(long knownDataVersion);

    /// <summary>Replaces the whole content (reprocessing); the batches listed per partition count as applied.</summary>
    Task Replace(AggregateDelta content, ImmutableDictionary<int, long> checkpoints);
}
