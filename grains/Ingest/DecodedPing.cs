using Telemetry.Grains.Probes;

namespace Telemetry.Grains.Ingest;

/// <summary>The dimensions every aggregate of a ping shares (the dimensions the aggregates API filters on).</summary>
public sealed record PingDimensions
{
    public required string DocType { get; init; }
    public required string Channel { get; init; }
    public required string Application { get; init; }
    public required string AppVersion { get; init; }
    public required string MajorVersion { get; init; }
    public required string BuildId { get; init; }
    /// <summary>yyyyMMdd, the first 8 digits of the build id.</summary>
    public required string BuildDate { get; init; }
    public required string Architecture { get; init; }
    public required string Os { get; init; }
    public required string OsVersion { get; init; }
    /// <summary>yyyyMMdd, the server's UTC receive date.</summary>
    public required string SubmissionDate { get; init; }
}

/// <summary>One histogram instance ready to add to an accumulator: sparse (bucket index, count) pairs.</summary>
public readonly record struct Contribution(
    string Metric,
    string Label,
    ProcessKind Process,
    BucketLayout Layout,
    bool Undeclared,
    long Sum,
    int Offset,
    int Length);

/// <summary>A ping decoded against its probe definitions: dimensions plus histogram contributions.</summary>
public sealed class DecodedPing
{
    public required PingDimensions Dimensions { get; init; }
    public List<Contribution> Contributions { get; private set; } = new();
    /// <summary>Names of histograms skipped as invalid (counted under invalid_histogram).</summary>
    public List<string> InvalidHistograms { get; private set; } = new();
    /// <summary>What the ping contributes to crash aggregates (README, "Crash aggregates"), or why it does not.</summary>
    public Telemetry.Grains.Crash.CrashDecodeResult Crash { get; set; }

    /// <summary>The server's UTC receive date.</summary>
    public DateOnly SubmissionDate { get; init; }

    /// <summary>URL segments that disagreed with the body (the body wins).</summary>
    public int DimensionMismatches { get; set; }

    internal int[] Indexes = [];
    internal long[] Counts = [];
    internal int Used;

    /// <summary>The aggregate input of this ping: exact-size arrays, shared by its two aggregates.</summary>
    public Telemetry.Contracts.Aggregates.PingHistograms ToHistograms()
    {
        int n = Contributions.Count;
        int pairs = 0;
        foreach (var c in Contributions)
        {
            pairs += c.Length;
        }
        var metrics = new string[n];
        var labels = new string[n];
        var processes = new byte[n];
        var sums = new long[n];
        var layouts = new Telemetry.Contracts.Aggregates.MetricLayout[n];
        var ends = new int[n];
        var buckets = new int[pairs];
        var counts = new long[pairs];
        int used = 0;
        for (int i = 0; i < n; i++)
        {
            var c = Contributions[i];
            metrics[i] = c.Metric;
            labels[i] = c.Label;
            processes[i] = (byte)c.Process;
            sums[i] = c.Sum;
            layouts[i] = c.Layout.ToMetricLayout(c.Undeclared);
            Indexes.AsSpan(c.Offset, c.Length).CopyTo(buckets.AsSpan(used));
            Counts.AsSpan(c.Offset, c.Length).CopyTo(counts.AsSpan(used));
            used += c.Length;
            ends[i] = used;
        }
        var d = Dimensions;
        return new Telemetry.Contracts.Aggregates.PingHistograms
        {
            Application = d.Application,
            Architecture = d.Architecture,
            Os = d.Os,
            OsVersion = d.OsVersion,
            Metrics = metrics,
            Labels = labels,
            Processes = processes,
            Sums = sums,
            Layouts = layouts,
            Ends = ends,
            Buckets = buckets,
            Counts = counts,
        };
    }

    // The working arrays and lists of the last ping decoded on this thread by the submit path: the
    // ping's contributions are copied out once, into its aggregation input (ToHistograms), and the
    // working storage goes to the next ping instead of becoming garbage (docs/ingest-cost.md).
    private sealed class Spare
    {
        public int[] Indexes = [];
        public long[] Counts = [];
        public List<Contribution> Contributions = new();
        public List<string> InvalidHistograms = new();
    }

    private const int MaxRetainedValues = 1 << 20;

    [ThreadStatic] private static Spare? t_spare;

    // The holder of the working storage, kept for Release: the hot path allocates no new one per ping.
    private Spare? _spare;

    /// <summary>Takes this thread's spare working storage, when there is one.</summary>
    internal void Borrow()
    {
        if (t_spare is not { } spare)
        {
            return;
        }
        t_spare = null;
        Indexes = spare.Indexes;
        Counts = spare.Counts;
        spare.Contributions.Clear();
        spare.InvalidHistograms.Clear();
        Contributions = spare.Contributions;
        InvalidHistograms = spare.InvalidHistograms;
        _spare = spare;
    }

    /// <summary>
    /// Gives the working storage to the next ping decoded on this thread. This ping must not be used
    /// afterwards (its contributions and value arrays are gone).
    /// </summary>
    internal void Release()
    {
        if (Indexes.Length <= MaxRetainedValues && Contributions.Capacity <= MaxRetainedValues)
        {
            var spare = _spare ?? new Spare();
            (spare.Indexes, spare.Counts, spare.Contributions, spare.InvalidHistograms) = (Indexes, Counts, Contributions, InvalidHistograms);
            t_spare = spare;
        }
        _spare = null;
        Indexes = [];
        Counts = [];
        Contributions = null!;
        InvalidHistograms = null!;
        Used = 0;
    }

    /// <summary>Sizes the storage once for what the ping can hold, so decoding does not grow arrays.</summary>
    internal void Reserve(int contributions, int values)
    {
        Contributions.Capacity = Math.Max(Contributions.Capacity, contributions);
        if (Indexes.Length < values)
        {
            Array.Resize(ref Indexes, values);
            Array.Resize(ref Counts, values);
        }
    }

    public ReadOnlySpan<int> IndexesOf(in Contribution c) => Indexes.AsSpan(c.Offset, c.Length);
    public ReadOnlySpan<long> CountsOf(in Contribution c) => Counts.AsSpan(c.Offset, c.Length);

    internal void Add(int index, long count)
    {
        if (Used == Indexes.Length)
        {
            Array.Resize(ref Indexes, Math.Max(16, Indexes.Length * 2));
            Array.Resize(ref Counts, Math.Max(16, Counts.Length * 2));
        }
        Indexes[Used] = index;
        Counts[Used] = count;
        Used++;
    }
}
